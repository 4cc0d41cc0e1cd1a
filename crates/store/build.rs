//! `sqlx::migrate!` embeds `migrations/` at compile time but cannot tell Cargo to watch the
//! directory on stable Rust: without this a new migration is silently missing from `MIGRATOR`
//! until something else rebuilds the crate.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
