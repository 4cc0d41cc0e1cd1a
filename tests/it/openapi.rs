//! The OpenAPI document as a reviewed snapshot (`snapshots/`): any change to the HTTP API shows
//! as a diff of the document. Update with `INSTA_UPDATE=always cargo test -p tests --test it
//! openapi` (or `cargo insta review`, if cargo-insta is installed) and commit the new file.

/// Pretty JSON with every object's keys sorted (serde_json's map is ordered by key), so the
/// snapshot does not depend on the order the document was assembled in.
#[test]
fn the_openapi_document_matches_its_snapshot() {
    let document = serde_json::to_value(api::openapi()).expect("the document serializes");
    let pretty = serde_json::to_string_pretty(&document).expect("JSON prints");
    insta::assert_snapshot!("openapi", pretty);
}
