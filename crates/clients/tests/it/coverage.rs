//! Every fake-API fixture (`vk/api/`, `telegram/api/`) is served by some test in this binary;
//! a new fixture without a test fails here.

use std::collections::BTreeSet;

use crate::support::FIXTURES;

fn listed(dir: &str) -> BTreeSet<String> {
    let dir = format!("{FIXTURES}{dir}");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

fn exercised(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_vk_api_fixture_is_served() {
    assert_eq!(listed("vk/api"), exercised(crate::vk::EXERCISED));
}

#[test]
fn every_telegram_api_fixture_is_served() {
    let mut served = exercised(crate::telegram::EXERCISED);
    served.extend(exercised(crate::telegram_updates::EXERCISED));
    assert_eq!(listed("telegram/api"), served);
}
