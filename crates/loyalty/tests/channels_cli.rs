//! `loyalty channels` as an operator runs it: the secret from the environment (never echoed),
//! JSON out, one line of error and a non-zero exit for wrong input or a channel with problems.

mod support;

use sqlx::PgPool;
use std::process::{Command, Output};
use support::database_url;

async fn channels(url: &str, args: &[&str], secret: Option<&str>) -> Output {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command
        .env("DATABASE_URL", url)
        .env("LOYALTY_PRIVACY_KEY", support::PRIVACY_KEY)
        .env_remove("LOYALTY_SECRETS_KEYS")
        .env_remove("LOYALTY_CHANNEL_SECRET")
        .env_remove("LOYALTY_TELEGRAM_BOT_TOKEN")
        .arg("channels")
        .args(args);
    if let Some(secret) = secret {
        command.env("LOYALTY_CHANNEL_SECRET", secret);
    }
    command.output().await.expect("loyalty runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn channels_are_added_listed_checked_and_removed_from_the_command_line(pool: PgPool) {
    let url = database_url(&pool);
    let program = loyalty::demo::seed(&pool, &support::secret_box())
        .await
        .unwrap()
        .0
        .to_string();
    let target = |destination: &'static str| {
        vec![
            "--program",
            program.as_str(),
            "--network",
            "vk",
            "--destination",
            destination,
        ]
    };
    let secret = "CliSecret42";

    let mut add = vec!["add"];
    add.extend(target("club229870999"));
    add.extend(["--confirmation", "abc123", "--by", "olga"]);
    let added = channels(&url, &add, Some(secret)).await;
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(stdout(&added).trim(), "\"connected\"");

    let listed = channels(&url, &["list", "--program", &program], None).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let list: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["destination"] == "229870999")
        .expect("listed under its plain id");
    assert_eq!(row["has_secret"], true);
    assert!(
        !stdout(&listed).contains(secret),
        "the secret is never printed"
    );

    // Without its secret a VK group is refused, with what to set.
    let mut no_secret = vec!["add"];
    no_secret.extend(target("229870998"));
    no_secret.extend(["--confirmation", "abc123"]);
    let refused = channels(&url, &no_secret, None).await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("secret key"),
        "{}",
        stderr(&refused)
    );

    // No delivery has come yet: the check says so and exits non-zero.
    let mut check = vec!["check"];
    check.extend(target("229870999"));
    let checked = channels(&url, &check, None).await;
    assert!(!checked.status.success());
    assert!(
        stdout(&checked).contains("no delivery has arrived yet"),
        "{}",
        stdout(&checked)
    );

    let mut remove = vec!["remove"];
    remove.extend(target("229870999"));
    let removed = channels(&url, &remove, None).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    let again = channels(&url, &remove, None).await;
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("has no vk channel 229870999"),
        "{}",
        stderr(&again)
    );
}
