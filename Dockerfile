# The `loyalty` image: built in a Rust image, run from a small Debian one as a user without
# privileges. The binary carries its migrations, pages and assets; it keeps no state on disk.
#
#   docker build -t loyalty .        (or: podman build -t loyalty .)
#   docker run --rm -e DATABASE_URL=… -e LOYALTY_PRIVACY_KEY=… -p 8080:8080 loyalty
#
# deploy/compose/compose.yaml runs it with PostgreSQL and a TLS reverse proxy (docs/deploy.md).

ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim
# Where the binary comes from: the `build` stage below, or an image holding a binary built
# elsewhere at /usr/local/bin/loyalty (deploy/podman/build-local.sh builds without a registry).
ARG BINARY_FROM=build

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The cargo registry and target directory are cached between builds, not kept in the layer;
# no debug info (the workspace's release profile keeps it for profiling benches).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --release --locked -p loyalty --bin loyalty \
    && install -m 0755 target/release/loyalty /usr/local/bin/loyalty

FROM ${BINARY_FROM} AS binary

FROM ${RUNTIME_IMAGE}
# Nothing to install: the binary needs glibc only, and carries its TLS roots (webpki-roots) for
# the Bot API, VK, Meta and PostgreSQL.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin loyalty
COPY --from=binary /usr/local/bin/loyalty /usr/local/bin/loyalty
USER 10001:10001
ENV LOYALTY_LISTEN=0.0.0.0:8080 \
    LOYALTY_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/loyalty"]
CMD ["serve"]
