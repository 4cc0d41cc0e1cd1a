#!/usr/bin/env bash
# Builds the loyalty image from the repository's Dockerfile without any image registry, and
# runs it against a PostgreSQL on this host: the runtime base is Debian bookworm made here by
# debootstrap from Debian's packages; the binary is built by cargo on this host and handed to
# the Dockerfile as BINARY_FROM (its Rust build stage is skipped). Needs root, podman,
# debootstrap, curl, openssl. Not part of CI.
#
#   deploy/podman/build-local.sh [DATABASE_URL]
#
# DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/loyalty_image (created if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

work=${LOYALTY_IMAGE_WORK:-/var/tmp/loyalty-image}
base=localhost/debian-bookworm-debootstrap:latest
binary=localhost/loyalty-binary:latest
image=localhost/loyalty:latest
database_url=${1:-postgres://postgres@127.0.0.1:5432/loyalty_image}
port=${LOYALTY_IMAGE_PORT:-18080}
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}

if ! podman image exists "$base"; then
    echo "== a Debian bookworm base from Debian's packages (debootstrap)"
    rm -rf "$work/rootfs"
    mkdir -p "$work"
    debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian
    tar -C "$work/rootfs" -c . | podman import - "$base"
fi

echo "== the binary (cargo, on this host), without debug info, as an image of its own"
CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --release --locked -p loyalty --bin loyalty
context="$work/binary"
rm -rf "$context" && mkdir -p "$context"
strip --strip-debug -o "$context/loyalty" target/release/loyalty
printf 'FROM scratch\nCOPY loyalty /usr/local/bin/loyalty\n' > "$context/Containerfile"
podman build --isolation chroot -t "$binary" "$context"

echo "== the image (Dockerfile, runtime stage)"
podman build --isolation chroot --build-arg RUNTIME_IMAGE="$base" \
    --build-arg BINARY_FROM="$binary" -t "$image" .
podman image inspect "$image" --format 'size {{.Size}} bytes, user {{.Config.User}}'

echo "== run it: migrate, then serve on 127.0.0.1:$port"
privacy_key=$(openssl rand -hex 32)
env_args=(DATABASE_URL="$database_url" LOYALTY_PRIVACY_KEY="$privacy_key"
          LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_TELEGRAM_MODE=off)
if podman run --rm --network host "$image" --version >/dev/null 2>&1; then
    podman_env=()
    for e in "${env_args[@]}"; do podman_env+=(-e "$e"); done
    podman run --rm --network host "${podman_env[@]}" "$image" migrate
    name=loyalty-image-check
    podman rm -f "$name" >/dev/null 2>&1 || true
    podman run -d --name "$name" --network host "${podman_env[@]}" "$image" serve >/dev/null
    trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT
    in_image() { podman exec "$name" "$@"; }
else
    # Some sandboxes refuse the container runtime (crun cannot set rlimits there): run the
    # image's own root filesystem and user by chroot instead, as its entrypoint would.
    echo "podman run is refused here; running the image's root filesystem by chroot as 10001"
    root=$(podman image mount "$image")
    serve_pid=""
    trap 'kill "$serve_pid" 2>/dev/null || true; podman image unmount "$image" >/dev/null' EXIT
    env -i "${env_args[@]}" "$(command -v chroot)" --userspec=10001:10001 "$root" /usr/local/bin/loyalty migrate
    env -i "${env_args[@]}" "$(command -v chroot)" --userspec=10001:10001 "$root" /usr/local/bin/loyalty serve &
    serve_pid=$!
    in_image() { chroot --userspec=10001:10001 "$root" "$@"; }
fi
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
echo "healthz: $(curl -fsS "http://127.0.0.1:$port/healthz")"
echo "readyz:  $(curl -fsS "http://127.0.0.1:$port/readyz")"
echo "user:    $(in_image /usr/bin/id -u)"
