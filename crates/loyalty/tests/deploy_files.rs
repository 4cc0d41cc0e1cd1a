//! The deployment files under `deploy/` are valid as their tools read them: the systemd unit
//! passes `systemd-analyze verify` without a warning and keeps its hardening (exposure at most
//! 2.0 of 10 by `systemd-analyze security`); the Prometheus rules pass `promtool check rules` and
//! their unit tests, and name only metrics the server exports.

use std::path::PathBuf;
use std::process::Command;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shipped unit with its binary path pointing at this build (verify checks it exists).
fn unit_under_test() -> PathBuf {
    let unit = std::fs::read_to_string(repository().join("deploy/loyalty.service")).unwrap();
    let exec = "ExecStart=/usr/local/bin/loyalty serve";
    assert_eq!(unit.matches(exec).count(), 1, "the unit starts {exec}");
    let dir = std::env::temp_dir().join(format!("loyalty-unit-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("loyalty.service");
    let built = format!("ExecStart={} serve", env!("CARGO_BIN_EXE_loyalty"));
    std::fs::write(&path, unit.replace(exec, &built)).unwrap();
    path
}

#[test]
fn the_systemd_unit_verifies_without_warnings_and_stays_hardened() {
    let unit = unit_under_test();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze is installed (Debian package systemd)");
    let warnings = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success(), "{warnings}");
    assert_eq!(warnings.trim(), "", "systemd-analyze verify warned");

    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20"])
        .arg(&unit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    assert!(
        security.status.success(),
        "exposure above 2.0:\n{report}{}",
        String::from_utf8_lossy(&security.stderr)
    );
    assert!(
        report.contains("Overall exposure level for loyalty.service"),
        "{report}"
    );
    std::fs::remove_dir_all(unit.parent().unwrap()).unwrap();
}

fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(repository().join("deploy/prometheus"))
        .output()
        .expect("promtool is installed (Debian package prometheus)");
    assert!(
        output.status.success(),
        "promtool {args:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_prometheus_rules_are_valid_and_their_unit_tests_pass() {
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);
}

/// Every metric name in an alert's expression, read as PromQL reads it: label matchers, ranges
/// and grouping labels (`by (…)`) are left out, and a name followed by `(` is a function.
fn metric_names(expr: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut depth = 0;
    for c in expr.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    // `by (instance, route)` and the like: grouping labels, not metrics.
    for keyword in ["by", "without", "on", "ignoring"] {
        while let Some(at) = find_word(&plain, keyword) {
            let after = &plain[at + keyword.len()..];
            let Some(open) = after.find('(').filter(|&i| after[..i].trim().is_empty()) else {
                break;
            };
            let close = after[open..]
                .find(')')
                .map_or(after.len(), |i| open + i + 1);
            plain.replace_range(at..at + keyword.len() + close, " ");
        }
    }
    let mut names = Vec::new();
    let mut rest = plain.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let word = &tail[..end];
        let is_function = tail[end..].trim_start().starts_with('(');
        if !is_function && word.contains('_') && !word.starts_with(|c: char| c.is_ascii_digit()) {
            names.push(word.to_string());
        }
        rest = &tail[end..];
    }
    names
}

/// Where `word` stands alone in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word)
        .map(|(i, _)| i)
        .find(|&i| !text[..i].ends_with(is_name) && !text[i + word.len()..].starts_with(is_name))
}

#[test]
fn the_alerts_name_only_metrics_the_server_exports() {
    let rules = std::fs::read_to_string(repository().join("deploy/prometheus/alerts.yml")).unwrap();
    let mut sources = String::new();
    let mut dirs = vec![repository().join("crates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("tests") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    // `expr:` values, single-line or folded over the indented lines below.
    let mut exprs = Vec::new();
    let mut lines = rules.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(expr) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let mut expr = expr.trim().trim_start_matches('|').to_string();
        let indent = line.len() - line.trim_start().len();
        while let Some(next) = lines.peek() {
            if next.len() - next.trim_start().len() <= indent || next.trim().is_empty() {
                break;
            }
            expr.push(' ');
            expr.push_str(next.trim());
            lines.next();
        }
        exprs.push(expr);
    }
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut checked = 0;
    for expr in &exprs {
        for name in metric_names(expr) {
            assert!(
                sources.contains(&format!("\"{name}\"")),
                "{name} (in `{expr}`) is not a metric the server exports"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} metric names found");
}
