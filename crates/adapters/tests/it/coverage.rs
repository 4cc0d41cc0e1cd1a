//! Every fixture file (outside the `api/` folders, which belong to the outbound clients) is
//! asserted on by a test in this binary; a new fixture without a test fails here.

use std::collections::BTreeSet;

use crate::support::FIXTURES;

fn listed(platform: &str) -> BTreeSet<String> {
    let dir = format!("{FIXTURES}{platform}");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

fn exercised(lists: &[&[&str]]) -> BTreeSet<String> {
    lists
        .iter()
        .flat_map(|l| l.iter())
        .map(|s| (*s).to_owned())
        .collect()
}

#[test]
fn every_instagram_fixture_is_exercised() {
    assert_eq!(
        listed("instagram"),
        exercised(&[crate::instagram::EXERCISED])
    );
}

#[test]
fn every_vk_fixture_is_exercised() {
    assert_eq!(listed("vk"), exercised(&[crate::vk::EXERCISED]));
}

#[test]
fn every_telegram_fixture_is_exercised() {
    let lists = [crate::telegram::EXERCISED, crate::mini_app::EXERCISED];
    assert_eq!(listed("telegram"), exercised(&lists));
}

#[test]
fn every_update_fixture_parses() {
    for file in crate::instagram::EXERCISED {
        let body = crate::support::fixture(&format!("instagram/{file}"));
        assert!(adapters::instagram::parse(&body).is_ok(), "{file}");
    }
    for file in crate::vk::EXERCISED {
        let body = crate::support::fixture(&format!("vk/{file}"));
        assert!(adapters::vk::parse(&body).is_ok(), "{file}");
    }
    for file in crate::telegram::EXERCISED {
        let body = crate::support::fixture(&format!("telegram/{file}"));
        assert!(adapters::telegram::parse(&body).is_ok(), "{file}");
    }
}
