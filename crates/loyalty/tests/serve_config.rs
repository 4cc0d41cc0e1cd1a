//! `loyalty serve --check-config` as an operator runs it: flags beat environment variables,
//! which beat the config file, which beats the defaults; a bad file stops the server with a
//! message naming the file and the key.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A config file of its own for each test, removed when dropped.
struct ConfigFile(PathBuf);

impl ConfigFile {
    fn new(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "loyalty-serve-config-{}-{name}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).expect("config file written");
        Self(path)
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `loyalty serve ARGS --check-config` with only `env` in its environment.
fn check_config(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loyalty"));
    command
        .env_clear()
        .arg("serve")
        .args(args)
        .arg("--check-config");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("loyalty runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    let file = ConfigFile::new(
        "precedence",
        r#"
listen = "127.0.0.1:9001"
public_url = "https://from-the-file.example"
request_timeout_ms = 2500
telegram_bot_token = "123456:file-secret"
"#,
    );
    let path = file.0.display().to_string();
    let env = [
        ("LOYALTY_CONFIG", path.as_str()),
        ("LOYALTY_LISTEN", "127.0.0.1:9002"),
        ("LOYALTY_PUBLIC_URL", "https://from-the-env.example"),
    ];
    let out = stdout(&check_config(
        &["--public-url", "https://from-the-flag.example"],
        &env,
    ));
    assert!(
        out.contains("listen: 127.0.0.1:9002"),
        "env beats file: {out}"
    );
    assert!(
        out.contains("public_url: \"https://from-the-flag.example\""),
        "flag beats env: {out}"
    );
    assert!(
        out.contains("request_timeout_ms: 2500"),
        "file beats default: {out}"
    );
    assert!(out.contains("max_body_bytes: 262144"), "the default: {out}");
    assert!(
        out.contains("bot_token: SecretBox<str>([REDACTED])"),
        "{out}"
    );
    assert!(!out.contains("file-secret"), "secrets never print: {out}");
}

#[test]
fn an_unknown_key_or_a_missing_file_stops_serve() {
    let file = ConfigFile::new(
        "unknown",
        "listen = \"127.0.0.1:9001\"\nlisten_port = 9001\n",
    );
    let path = file.0.display().to_string();
    let output = check_config(&["--config", &path], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path), "{stderr}");
    assert!(stderr.contains("unknown field `listen_port`"), "{stderr}");

    let missing = std::env::temp_dir().join("loyalty-serve-config-missing.toml");
    let output = check_config(&[], &[("LOYALTY_CONFIG", &missing.display().to_string())]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read config file"), "{stderr}");
}

/// Every numeric option with values outside its range (refused) and at both ends of it
/// (accepted), by environment variable and by config file.
const NUMERIC_OPTIONS: &[(&str, &str, &[&str], [&str; 2])] = &[
    (
        "LOYALTY_MAX_BODY_BYTES",
        "max_body_bytes",
        &["0", "1023", "1073741825", "18446744073709551615", "-1"],
        ["1024", "1073741824"],
    ),
    (
        "LOYALTY_REQUEST_TIMEOUT_MS",
        "request_timeout_ms",
        &["0", "86400001", "18446744073709551615", "-1"],
        ["1", "86400000"],
    ),
    (
        "LOYALTY_INIT_DATA_MAX_AGE_SECS",
        "init_data_max_age_secs",
        &[
            "0",
            "-1",
            "31536001",
            "9300000000000000",
            "9223372036854775807",
            "-9223372036854775808",
        ],
        ["1", "31536000"],
    ),
    (
        "LOYALTY_LARGE_ADJUSTMENT_POINTS",
        "large_adjustment_points",
        &["0", "-1", "1000000001", "9223372036854775807"],
        ["1", "1000000000"],
    ),
    (
        "LOYALTY_SESSION_TTL_HOURS",
        "session_ttl_hours",
        &[
            "0",
            "-1",
            "721",
            "9223372036854775807",
            "-9223372036854775808",
        ],
        ["1", "720"],
    ),
    (
        "LOYALTY_READY_MAX_LAG_EVENTS",
        "ready_max_lag_events",
        &["-1", "-9223372036854775808"],
        ["0", "9223372036854775807"],
    ),
    (
        "LOYALTY_DB_CONNECTIONS",
        "db_connections",
        &["0", "1001", "4294967295", "-1"],
        ["1", "1000"],
    ),
];

#[test]
fn numeric_options_outside_their_range_stop_serve_naming_the_option_and_range() {
    for (variable, key, refused, accepted) in NUMERIC_OPTIONS {
        let flag = format!("--{}", key.replace('_', "-"));
        for value in *refused {
            let output = check_config(&[], &[(variable, value)]);
            assert!(!output.status.success(), "{variable}={value} accepted");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(&flag), "{variable}={value}: {stderr}");
            assert!(!stderr.contains("panicked"), "{variable}={value}: {stderr}");

            let file = ConfigFile::new(key, &format!("{key} = {value}\n"));
            let path = file.0.display().to_string();
            let output = check_config(&["--config", &path], &[]);
            assert!(!output.status.success(), "{key} = {value} accepted");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(key), "{key} = {value}: {stderr}");
            assert!(!stderr.contains("panicked"), "{key} = {value}: {stderr}");
        }
        // The printed configuration nests options by concern: `db_connections` is
        // `database.connections`; the others keep their names.
        let field = if *key == "db_connections" {
            "connections"
        } else {
            key
        };
        for value in accepted {
            let out = stdout(&check_config(&[], &[(variable, value)]));
            assert!(
                out.contains(&format!("{field}: {value}")),
                "{variable}={value}: {out}"
            );
            let file = ConfigFile::new(key, &format!("{key} = {value}\n"));
            let path = file.0.display().to_string();
            let out = stdout(&check_config(&["--config", &path], &[]));
            assert!(
                out.contains(&format!("{field}: {value}")),
                "{key} = {value}: {out}"
            );
        }
    }
}

#[test]
fn a_config_file_value_outside_its_range_names_the_range() {
    let file = ConfigFile::new("range", "init_data_max_age_secs = 9300000000000000\n");
    let path = file.0.display().to_string();
    let output = check_config(&["--config", &path], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("init_data_max_age_secs = 9300000000000000: allowed range is 1..=31536000"),
        "{stderr}"
    );
}
