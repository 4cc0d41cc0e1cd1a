//! `projections rebuild` and `audit verify` say how far they have come while they run: with
//! stderr not a terminal (a journal, CI), a log line every `--progress-every` with the events
//! read, the rate and the time left, and a last line with what was read in all. Stdout keeps
//! the report alone.

mod support;

use sqlx::PgPool;
use std::process::{Command, Output};
use support::database_url;

async fn loyalty(url: &str, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command
        .env("DATABASE_URL", url)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(args);
    command.output().await.expect("loyalty runs")
}

fn progress_lines<'a>(stderr: &'a str, what: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.contains(&format!("{what}: ")))
        .collect()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn rebuild_and_audit_show_their_progress_and_the_events_read(pool: PgPool) {
    loyalty::demo::seed(&pool, &support::secret_box())
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let url = database_url(&pool);

    for (args, what) in [
        (&["projections", "rebuild"][..], "projections rebuild"),
        (&["audit", "verify"][..], "audit verify"),
    ] {
        let mut args = args.to_vec();
        args.extend(["--progress-every", "0.01"]);
        let output = loyalty(&url, &args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{what}: {stderr}");
        let lines = progress_lines(&stderr, what);
        // At least one line while it ran (it takes far longer than 10 ms), then the last one.
        assert!(lines.len() >= 2, "{what}: {stderr}");
        let running = lines[0];
        assert!(
            running.contains(" of about ") && running.contains(" events/s"),
            "{running}"
        );
        let last = lines[lines.len() - 1];
        assert!(
            last.contains(&format!("{what}: {events} events read in ")),
            "{last} (the log holds {events} events)"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains(" of about "), "{stdout}");
    }
}
