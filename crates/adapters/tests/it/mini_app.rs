//! Every Mini App vector in webapp_init_data_vectors.json, the Login Widget vector, and edges.

use adapters::InitDataError;
use adapters::mini_app::{
    InitData, MAX_FUTURE_SKEW_SECONDS, TELEGRAM_PUBLIC_KEY, TELEGRAM_TEST_PUBLIC_KEY,
    validate_init_data, validate_init_data_third_party, validate_login_widget,
    validate_login_widget_query,
};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::support::*;

pub const EXERCISED: &[&str] = &["login_widget_vector.json", "webapp_init_data_vectors.json"];

const BOT_TOKEN: &str = "7000000001:AAHf1xTuReS-0nLy_4_t3sTs_q9W2e4R6t8Y";

fn vectors() -> Value {
    fixture_json("telegram/webapp_init_data_vectors.json")
}

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap()
}

fn str_of<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector lacks {key}: {case}"))
}

fn key32(hex_key: &str) -> [u8; 32] {
    hex::decode(hex_key).unwrap().try_into().unwrap()
}

/// Runs one vector the way its fields say (HMAC by default, Ed25519 when `check` says so).
fn run(case: &Value, file: &Value) -> Result<InitData, InitDataError> {
    let init_data = str_of(case, "init_data");
    let now = at(case["now"].as_i64().unwrap());
    let max_age = TimeDelta::seconds(case["max_age_seconds"].as_i64().unwrap());
    if case["check"].as_str() == Some("ed25519") {
        let key = key32(str_of(case, "public_key_hex"));
        let bot_id = case["bot_id"].as_i64().unwrap();
        validate_init_data_third_party(init_data, bot_id, &key, now, max_age)
    } else {
        let token = case["bot_token_override"]
            .as_str()
            .unwrap_or(str_of(file, "bot_token"));
        validate_init_data(init_data, token, now, max_age)
    }
}

#[test]
fn every_vector_has_its_expected_outcome() {
    let file = vectors();
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        let name = str_of(case, "name");
        let got = match run(case, &file) {
            Ok(_) => "valid",
            Err(e) => e.code(),
        };
        assert_eq!(got, str_of(case, "expect"), "vector {name}");
    }
}

#[test]
fn valid_vectors_yield_anna() {
    let file = vectors();
    for case in file["cases"].as_array().unwrap() {
        let Ok(init) = run(case, &file) else { continue };
        let user = init.user();
        assert_eq!(user.id, 5000000001);
        assert_eq!(user.first_name, "Анна");
        assert_eq!(user.username.as_deref(), Some("anna_runs"));
        assert_eq!(user.language_code.as_deref(), Some("ru"));
        assert_eq!(init.auth_date(), at(1767268800));
        assert_eq!(init.query_id(), Some("AAHdF6IQAAAAAN0XohDhrOrc"));
        assert_eq!(init.start_param(), None);
        let expected_last = match str_of(case, "name") {
            "valid_plus_encoded_spaces" => "Смирнова Петрова",
            _ => "Смирнова",
        };
        assert_eq!(user.last_name.as_deref(), Some(expected_last));
    }
}

#[test]
fn the_hash_made_without_signature_is_refused() {
    let file = vectors();
    let case = &file["cases"][8];
    assert_eq!(str_of(case, "name"), "signature_excluded_by_mistake");
    let wrong = str_of(case, "wrong_hash_if_signature_is_excluded");
    let init_data =
        str_of(case, "init_data").replace(str_of(&file["cases"][0], "expected_hash"), wrong);
    let got = validate_init_data(&init_data, BOT_TOKEN, at(1767269100), TimeDelta::days(1));
    assert_eq!(got.unwrap_err(), InitDataError::InvalidHash);
}

#[test]
fn third_party_check_needs_the_right_key_and_a_signature() {
    let file = vectors();
    let init_data = str_of(&file["cases"][0], "init_data");
    let (now, day) = (at(1767269100), TimeDelta::days(1));
    for key in [TELEGRAM_PUBLIC_KEY, TELEGRAM_TEST_PUBLIC_KEY] {
        let got = validate_init_data_third_party(init_data, 7000000001, &key, now, day);
        assert_eq!(got.unwrap_err(), InitDataError::InvalidSignature);
    }
    let key = key32(str_of(&file, "test_ed25519_public_key_hex"));
    let unsigned = str_of(&file["cases"][1], "init_data");
    let got = validate_init_data_third_party(unsigned, 7000000001, &key, now, day);
    assert_eq!(got.unwrap_err(), InitDataError::InvalidSignature);
    // Padding on the base64url signature is optional.
    let padded = init_data.replace("P2fRBw&", "P2fRBw%3D%3D&");
    let got = validate_init_data_third_party(&padded, 7000000001, &key, now, day);
    assert!(got.is_ok(), "{got:?}");
}

/// initData signed here with the fixture token, for edges the vectors do not cover.
fn signed(pairs: &[(&str, &str)]) -> String {
    let mut secret = Hmac::<Sha256>::new_from_slice(b"WebAppData").unwrap();
    secret.update(BOT_TOKEN.as_bytes());
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let check: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.finalize().into_bytes()).unwrap();
    mac.update(check.join("\n").as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let encode = |s: &str| {
        s.replace('%', "%25")
            .replace('&', "%26")
            .replace('+', "%2B")
            .replace(' ', "+")
    };
    let mut query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    query.push(format!("hash={hash}"));
    query.join("&")
}

const USER: &str = r#"{"id":5000000002,"first_name":"Boris","language_code":"en"}"#;

#[test]
fn auth_date_window_and_skew() {
    let day = TimeDelta::days(1);
    let data = signed(&[
        ("auth_date", "1000000"),
        ("user", USER),
        ("start_param", "camp_autumn"),
    ]);
    let init = validate_init_data(&data, BOT_TOKEN, at(1000000), day).unwrap();
    assert_eq!(
        (init.user().id, init.start_param()),
        (5000000002, Some("camp_autumn"))
    );
    assert!(validate_init_data(&data, BOT_TOKEN, at(1000000 + 86400), day).is_ok());
    let stale = validate_init_data(&data, BOT_TOKEN, at(1000000 + 86401), day);
    assert_eq!(stale.unwrap_err(), InitDataError::Expired);
    let skew = at(1000000 - MAX_FUTURE_SKEW_SECONDS);
    assert!(validate_init_data(&data, BOT_TOKEN, skew, day).is_ok());
    let ahead = validate_init_data(&data, BOT_TOKEN, skew - TimeDelta::seconds(1), day);
    assert_eq!(ahead.unwrap_err(), InitDataError::InvalidAuthDate);
}

#[test]
fn signed_but_unusable_fields() {
    let (now, day) = (at(1000000), TimeDelta::days(1));
    let check = |pairs: &[(&str, &str)]| validate_init_data(&signed(pairs), BOT_TOKEN, now, day);
    assert_eq!(
        check(&[("auth_date", "soon"), ("user", USER)]).unwrap_err(),
        InitDataError::InvalidAuthDate
    );
    assert_eq!(
        check(&[("user", USER)]).unwrap_err(),
        InitDataError::InvalidAuthDate
    );
    assert_eq!(
        check(&[("auth_date", "1000000")]).unwrap_err(),
        InitDataError::Malformed
    );
    assert_eq!(
        check(&[("auth_date", "1000000"), ("user", "{")]).unwrap_err(),
        InitDataError::Malformed
    );
    let nul = r#"{"id":7,"first_name":"A\u0000nna"}"#;
    assert_eq!(
        check(&[("auth_date", "1000000"), ("user", nul)])
            .unwrap()
            .user()
            .first_name,
        "Anna"
    );
    let bad_hex = validate_init_data("auth_date=1&hash=zz", BOT_TOKEN, now, day);
    assert_eq!(bad_hex.unwrap_err(), InitDataError::InvalidHash);
    let empty = validate_init_data("", BOT_TOKEN, now, day);
    assert_eq!(empty.unwrap_err(), InitDataError::MissingHash);
}

#[test]
fn login_widget_vector() {
    let v = fixture_json("telegram/login_widget_vector.json");
    let token = str_of(&v, "bot_token");
    let now = at(v["now"].as_i64().unwrap());
    let fields: Vec<(&str, &str)> = v["auth_data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, val)| (k.as_str(), val.as_str().unwrap()))
        .collect();
    let user = validate_login_widget(&fields, token, now, TimeDelta::days(1)).unwrap();
    assert_eq!(str_of(&v, "expect"), "valid");
    assert_eq!(
        (user.id(), user.first_name(), user.last_name()),
        (5000000001, "Анна", Some("Смирнова"))
    );
    assert_eq!(
        (user.username(), user.auth_date()),
        (Some("anna_runs"), at(1767268800))
    );
    assert_eq!(
        user.photo_url(),
        Some("https://t.me/i/userpic/320/anna.jpg")
    );

    // The Mini App key derivation gives another hash, which must fail.
    let wrong = str_of(&v, "hash_with_mini_app_key_wrong");
    let swapped: Vec<_> = fields
        .iter()
        .map(|&(k, val)| if k == "hash" { (k, wrong) } else { (k, val) })
        .collect();
    let got = validate_login_widget(&swapped, token, now, TimeDelta::days(1));
    assert_eq!(got.unwrap_err(), InitDataError::InvalidHash);

    let query: Vec<String> = fields.iter().map(|(k, val)| format!("{k}={val}")).collect();
    let query = query.join("&");
    assert!(validate_login_widget_query(&query, token, now, TimeDelta::days(1)).is_ok());
    let late = validate_login_widget_query(&query, token, now, TimeDelta::seconds(10));
    assert_eq!(late.unwrap_err(), InitDataError::Expired);
    let mut twice = fields.clone();
    twice.push(("id", "5000000002"));
    let got = validate_login_widget(&twice, token, now, TimeDelta::days(1));
    assert_eq!(got.unwrap_err(), InitDataError::Malformed);
}
