//! Files compiled into the binary (the Mini App's and the admin panel's pages, scripts, styles
//! and icons), served the way a phone on a slow link wants them.
//!
//! - Every file is served at a content-hashed URL (`/app/app.3f9a1c2b4d5e.js`, the first 12 hex
//!   digits of its SHA-256) with `Cache-Control: public, max-age=31536000, immutable`: a warm
//!   Mini App asks nothing for its script and style. A new binary with a changed file serves it
//!   at a new URL; an unknown hash is 404.
//! - Each page is rewritten once, when its [`Assets`] is first used (a `LazyLock` in each page
//!   module), so its `src="…"` and `href="…"` name the hashed URLs. Pages, and the files' plain
//!   URLs (kept for a page opened before a deploy, or a bookmark), are served with
//!   `Cache-Control: no-cache` and a strong `ETag`; `If-None-Match` with it answers 304 without
//!   a body.
//! - Compression: brotli (quality 11) or gzip (level 9), whichever `Accept-Encoding` allows, br
//!   first; each body is compressed once, at its first request asking for that coding, and kept
//!   (only when smaller). Gzip takes a few milliseconds and is made in the request; brotli at
//!   quality 11 takes about 0.1 s for the Mini App's script, so its first request starts it on
//!   the blocking pool and is answered with gzip meanwhile: nobody waits for it. Answers say
//!   `Vary: Accept-Encoding`, and each representation has its own ETag (`"<hash>"`,
//!   `"<hash>.br"`, `"<hash>.gz"`), as a strong validator must.
//!
//! Why compress here once instead of tower-http's `CompressionLayer`: that layer compresses
//! every response again on every request, so it must use a fast level (brotli 11 would cost
//! ~0.1 s of CPU per request of the Mini App's 60 KB script). It also leaves the ETag and
//! `If-None-Match` to whatever is behind it. These bodies never change while the process runs:
//! compressing each one once at the best level costs about 0.4 s of CPU in the life of the
//! process, all files together, and nothing per request after. The crates: flate2 (the usual
//! Rust gzip, on its pure-Rust miniz_oxide backend, already in the workspace's lock) and brotli
//! (Dropbox's pure-Rust port, the one async-compression, under tower-http's layer, builds on).
//! Chromium sends `br` over HTTPS and to localhost; brotli makes the Mini App's script 14%
//! smaller than gzip -9 does (15.0 against 17.3 KB of 60 KB).
//!
//! Each page module keeps its own security headers (Content-Security-Policy and the others) and
//! passes them to every answer.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// How long a hashed URL may be kept: a year, and never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages and plain URLs: kept, but asked about (a 304 costs one small request) every time.
pub const REVALIDATE: &str = "no-cache";
/// Hex digits of the SHA-256 in hashed URLs and ETags.
const HASH_CHARS: usize = 12;

/// A file served at `path` (its URL without a hash).
pub struct File {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// A page: HTML naming [`File`]s by their plain URLs, served under whatever route its module
/// chooses; `name` finds it in [`Assets::page`].
pub struct Page {
    pub name: &'static str,
    pub html: &'static str,
}

/// Headers a page module adds to every answer (its Content-Security-Policy and the like).
/// They are inserted last, so one of them may replace `Vary` or `Cache-Control`.
pub type Extra = [(HeaderName, &'static str)];

/// One set of embedded files and the pages that use them.
pub struct Assets {
    bodies: Vec<Body>,
    /// Plain and hashed URL of every file → (body, caching).
    files: HashMap<String, (usize, &'static str)>,
    pages: HashMap<&'static str, usize>,
    /// Plain URL → hashed URL.
    hashed: HashMap<&'static str, String>,
}

impl Assets {
    /// Hashes the files and rewrites the pages to name them by their hashed URLs.
    pub fn new(files: &[File], pages: &[Page]) -> Assets {
        let mut assets = Assets {
            bodies: Vec::new(),
            files: HashMap::new(),
            pages: HashMap::new(),
            hashed: HashMap::new(),
        };
        for file in files {
            let body = Body::new(file.content_type, Bytes::from_static(file.body.as_bytes()));
            let hashed = hashed_path(file.path, &body.hash);
            let index = assets.bodies.len();
            assets.bodies.push(body);
            assets
                .files
                .insert(file.path.to_string(), (index, REVALIDATE));
            assets.files.insert(hashed.clone(), (index, IMMUTABLE));
            assets.hashed.insert(file.path, hashed);
        }
        for page in pages {
            let mut html = page.html.to_string();
            for (plain, hashed) in &assets.hashed {
                // Quoted, so `/app/app.js` never matches inside a longer URL.
                html = html.replace(&format!("\"{plain}\""), &format!("\"{hashed}\""));
            }
            assets.pages.insert(page.name, assets.bodies.len());
            assets
                .bodies
                .push(Body::new("text/html; charset=utf-8", Bytes::from(html)));
        }
        assets
    }

    /// Every URL a file answers at, plain and hashed, for routes that list them.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The hashed URL of the file whose plain URL is `path`.
    pub fn hashed(&self, path: &str) -> Option<&str> {
        self.hashed.get(path).map(String::as_str)
    }

    /// The file at `path` (plain or hashed URL), or 404.
    pub fn file(&'static self, path: &str, request: &HeaderMap, extra: &Extra) -> Response {
        match self.files.get(path) {
            Some(&(index, cache)) => self.bodies[index].respond(request, cache, extra),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }

    /// The page called `name`, or 404.
    pub fn page(&'static self, name: &str, request: &HeaderMap, extra: &Extra) -> Response {
        match self.pages.get(name) {
            Some(&index) => self.bodies[index].respond(request, REVALIDATE, extra),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

/// `/app/app.js` → `/app/app.<hash>.js`.
fn hashed_path(path: &str, hash: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{dir}/{stem}.{hash}.{ext}"),
        None => format!("{dir}/{name}.{hash}"),
    }
}

#[derive(Clone, Copy)]
enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// One body, its ETags, and its compressed forms once asked for.
struct Body {
    content_type: HeaderValue,
    identity: Bytes,
    hash: String,
    etag: HeaderValue,
    brotli: Compressed,
    /// Whether brotli's compression has been started (it runs on the blocking pool).
    brotli_started: AtomicBool,
    gzip: Compressed,
}

/// A compressed form and its ETag; `None` when it came out no smaller (or failed).
type Compressed = OnceLock<Option<(Bytes, HeaderValue)>>;

impl Body {
    fn new(content_type: &'static str, identity: Bytes) -> Body {
        let hash = hex::encode(Sha256::digest(&identity))[..HASH_CHARS].to_string();
        Body {
            content_type: HeaderValue::from_static(content_type),
            etag: etag(&hash, ""),
            hash,
            identity,
            brotli: OnceLock::new(),
            brotli_started: AtomicBool::new(false),
            gzip: OnceLock::new(),
        }
    }

    /// The compressed form in `coding`: gzip made now at its first use; brotli started in the
    /// background at its first use and `None` until it is done (outside a runtime, made now).
    fn compressed(&'static self, coding: Coding) -> Option<&'static (Bytes, HeaderValue)> {
        let make = move || {
            let suffix = match coding {
                Coding::Brotli => ".br",
                Coding::Gzip => ".gz",
            };
            let packed = compress(&self.identity, coding)?;
            (packed.len() < self.identity.len()).then(|| (packed, etag(&self.hash, suffix)))
        };
        match coding {
            Coding::Gzip => self.gzip.get_or_init(make).as_ref(),
            Coding::Brotli => {
                if let Some(done) = self.brotli.get() {
                    return done.as_ref();
                }
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => {
                        if !self.brotli_started.swap(true, Ordering::AcqRel) {
                            runtime.spawn_blocking(move || self.brotli.get_or_init(make));
                        }
                        None
                    }
                    Err(_) => self.brotli.get_or_init(make).as_ref(),
                }
            }
        }
    }

    fn respond(&'static self, request: &HeaderMap, cache: &'static str, extra: &Extra) -> Response {
        let chosen = [Coding::Brotli, Coding::Gzip]
            .into_iter()
            .filter(|coding| accepts(request, coding.token()))
            .find_map(|coding| self.compressed(coding).map(|packed| (coding, packed)));
        let (body, etag) = match chosen {
            Some((_, (body, etag))) => (body, etag),
            None => (&self.identity, &self.etag),
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, etag.clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        let not_modified = none_match(request, etag);
        if !not_modified {
            headers.insert(header::CONTENT_TYPE, self.content_type.clone());
            if let Some((coding, _)) = chosen {
                headers.insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(coding.token()),
                );
            }
        }
        for (name, value) in extra {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
        if not_modified {
            (StatusCode::NOT_MODIFIED, headers).into_response()
        } else {
            (headers, body.clone()).into_response()
        }
    }
}

fn etag(hash: &str, suffix: &str) -> HeaderValue {
    // Hex digits and a dot or two: always a valid header value.
    HeaderValue::from_str(&format!("\"{hash}{suffix}\""))
        .unwrap_or(HeaderValue::from_static("\"\""))
}

fn compress(body: &[u8], coding: Coding) -> Option<Bytes> {
    let packed = match coding {
        Coding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(body).ok()?;
            encoder.finish().ok()?
        }
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            let mut packed = Vec::new();
            brotli::BrotliCompress(&mut &body[..], &mut packed, &params).ok()?;
            packed
        }
    };
    Some(Bytes::from(packed))
}

/// Whether `Accept-Encoding` allows `coding` (by name, or by `*`, with a q above 0).
fn accepts(request: &HeaderMap, coding: &str) -> bool {
    let mut star = false;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let allowed = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
            if name.eq_ignore_ascii_case(coding) {
                return allowed;
            }
            if name == "*" {
                star = allowed;
            }
        }
    }
    star
}

/// Whether `If-None-Match` names `etag` (or is `*`); compared weakly, as RFC 9110 says.
fn none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    request.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours
            })
        })
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let accepts =
            |value: &'static str, coding| accepts(&headers(&[("accept-encoding", value)]), coding);
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(!accepts("gzip, deflate", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(!accepts("identity", "gzip"));
        assert!(!super::accepts(&HeaderMap::new(), "gzip"));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let tag = HeaderValue::from_static("\"abc\"");
        let matches = |value: &'static str| none_match(&headers(&[("if-none-match", value)]), &tag);
        assert!(matches("\"abc\""));
        assert!(matches("\"x\", W/\"abc\""));
        assert!(matches("*"));
        assert!(!matches("\"abcd\""));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn hashed_paths_keep_the_extension() {
        assert_eq!(hashed_path("/app/app.js", "0123"), "/app/app.0123.js");
        assert_eq!(
            hashed_path("/admin/assets/favicon.svg", "ab"),
            "/admin/assets/favicon.ab.svg"
        );
        assert_eq!(hashed_path("/x/plain", "ab"), "/x/plain.ab");
    }

    #[test]
    fn pages_name_the_hashed_urls_only_where_quoted_whole() {
        let assets = Assets::new(
            &[File {
                path: "/a/app.js",
                content_type: "text/javascript",
                body: "x",
            }],
            &[Page {
                name: "index",
                html: "<script src=\"/a/app.js\"></script><a href=\"/a/app.json\"></a>",
            }],
        );
        let hashed = assets.hashed("/a/app.js").unwrap().to_string();
        let html = &assets.bodies[assets.pages["index"]].identity;
        let html = std::str::from_utf8(html).unwrap();
        assert!(html.contains(&format!("src=\"{hashed}\"")), "{html}");
        assert!(html.contains("href=\"/a/app.json\""), "{html}");
    }
}
