//! The deployment files under `deploy/` are valid as their tools read them: the systemd unit
//! passes `systemd-analyze verify` without a warning and keeps its hardening (exposure at most
//! 2.0 of 10 by `systemd-analyze security`).

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
