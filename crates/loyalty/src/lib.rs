#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! The `loyalty` binary's wiring, as a library so tests and the bench run it as users do:
//! which database to use (`db`), `serve`'s processes and workers (`server`), the demo program
//! and its traffic (`demo`), and signed platform deliveries as the platforms send them
//! (`simulate`).

pub mod bots;
pub mod channels;
pub mod db;
pub mod demo;
pub mod members;
pub mod progress;
pub mod server;
pub mod simulate;

/// A binary built beside the running one (`loyalty` and `loyalty-bench` find each other so);
/// a missing one is an error that says how to build it.
pub fn sibling_binary(name: &str, package: &str) -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build it with `cargo build --release -p {package}`",
        path.display()
    );
    Ok(path)
}
