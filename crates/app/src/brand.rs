//! How a program presents itself to members: its name, accent colour, logo and links to its
//! VK group, Telegram channel and Instagram account, set by an admin in the panel and shown by
//! the Mini App. Presentation, not money: a mutable row (`program_brand`) that remembers who
//! changed it last, not events.
//!
//! Links are accepted the ways people paste them (`@name`, `t.me/name`, a full URL) and stored
//! in one canonical form, so the page only ever opens an address on the platform's own host.

use chrono::{DateTime, Utc};
use domain::ids::ProgramId;
use domain::network::Network;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

/// Largest logo accepted: a phone shows it at 48 px, so more is waste.
pub const MAX_LOGO_BYTES: usize = 200 * 1024;
/// Longest display name: it must fit a phone's header.
pub const MAX_NAME_CHARS: usize = 64;

/// The brand as stored; every field optional (the Mini App falls back to the program's name
/// and Telegram's theme).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Brand {
    pub display_name: Option<String>,
    /// `#rrggbb`.
    pub accent_color: Option<String>,
    pub links: BrandLinks,
    /// SHA-256 of the logo (hex), which names its URL; `None` without a logo.
    pub logo_hash: Option<String>,
    /// Who changed the brand last (`manager:<username>`), and when.
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Canonical links to the brand's communities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BrandLinks {
    /// `https://vk.com/<group>`.
    pub vk: Option<String>,
    /// `https://t.me/<channel>` or an invite link `https://t.me/+<hash>`.
    pub telegram: Option<String>,
    /// `https://www.instagram.com/<account>/`.
    pub instagram: Option<String>,
}

/// The brand as an admin submits it; blank fields clear.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BrandRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub accent_color: Option<String>,
    #[serde(default)]
    pub vk: Option<String>,
    #[serde(default)]
    pub telegram: Option<String>,
    #[serde(default)]
    pub instagram: Option<String>,
}

/// The checked, canonical form of a [`BrandRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidBrand {
    pub display_name: Option<String>,
    pub accent_color: Option<String>,
    pub links: BrandLinks,
}

/// A logo as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BrandError {
    /// A field cannot be used; the message says what to fix.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> BrandError {
    BrandError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks every field and puts links in their canonical form.
pub fn validate(request: &BrandRequest) -> Result<ValidBrand, BrandError> {
    let display_name = match blank_to_none(&request.display_name) {
        None => None,
        Some(name) if name.chars().count() > MAX_NAME_CHARS => {
            return Err(invalid(
                "display_name",
                format!("at most {MAX_NAME_CHARS} characters"),
            ));
        }
        Some(name) if name.chars().any(char::is_control) => {
            return Err(invalid(
                "display_name",
                "no line breaks or control characters",
            ));
        }
        Some(name) => Some(name.to_string()),
    };
    let accent_color = match blank_to_none(&request.accent_color) {
        None => None,
        Some(c) => Some(
            color(c)
                .ok_or_else(|| invalid("accent_color", "a colour like #1f6feb (six hex digits)"))?,
        ),
    };
    let links = BrandLinks {
        vk: blank_to_none(&request.vk)
            .map(|v| {
                vk_link(v).ok_or_else(|| {
                    invalid("vk", "a VK group address like https://vk.com/yourgroup")
                })
            })
            .transpose()?,
        telegram: blank_to_none(&request.telegram)
            .map(|v| {
                telegram_link(v).ok_or_else(|| {
                    invalid(
                        "telegram",
                        "a Telegram channel like @yourchannel or https://t.me/yourchannel",
                    )
                })
            })
            .transpose()?,
        instagram: blank_to_none(&request.instagram)
            .map(|v| {
                instagram_link(v).ok_or_else(|| {
                    invalid(
                        "instagram",
                        "an Instagram account like @youraccount or https://www.instagram.com/youraccount/",
                    )
                })
            })
            .transpose()?,
    };
    Ok(ValidBrand {
        display_name,
        accent_color,
        links,
    })
}

fn blank_to_none(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn color(value: &str) -> Option<String> {
    let hex = value.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

/// The path after one of `hosts` (scheme optional), or the value itself after `@`.
fn handle<'a>(value: &'a str, hosts: &[&str]) -> Option<&'a str> {
    if let Some(name) = value.strip_prefix('@') {
        return Some(name);
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .unwrap_or(value);
    let path = hosts
        .iter()
        .find_map(|host| rest.strip_prefix(host)?.strip_prefix('/'))?;
    let path = path.split(['?', '#']).next().unwrap_or_default();
    Some(path.strip_suffix('/').unwrap_or(path))
}

fn name_chars(name: &str, min: usize, max: usize, extra: &[char]) -> bool {
    (min..=max).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
}

impl BrandLinks {
    /// The handle members write to mention the brand on `network`, lower case, without `@`,
    /// from its public link: the Telegram username (not an invite link) or the Instagram
    /// account. VK mentions name the community by id, which the channel knows instead.
    pub fn mention_handle(&self, network: Network) -> Option<String> {
        let name = match network {
            Network::Telegram => self.telegram.as_deref()?.strip_prefix("https://t.me/")?,
            Network::Instagram => self
                .instagram
                .as_deref()?
                .strip_prefix("https://www.instagram.com/")?
                .trim_end_matches('/'),
            Network::Vk => return None,
        };
        (!name.is_empty() && !name.starts_with('+')).then(|| name.to_ascii_lowercase())
    }
}

fn vk_link(value: &str) -> Option<String> {
    let name = handle(value, &["vk.com", "www.vk.com", "m.vk.com", "vk.ru"])?;
    name_chars(name, 2, 64, &['.']).then(|| format!("https://vk.com/{name}"))
}

fn telegram_link(value: &str) -> Option<String> {
    let name = handle(value, &["t.me", "telegram.me"])?;
    if let Some(invite) = name.strip_prefix('+') {
        return name_chars(invite, 10, 64, &['-']).then(|| format!("https://t.me/+{invite}"));
    }
    name_chars(name, 5, 32, &[]).then(|| format!("https://t.me/{name}"))
}

fn instagram_link(value: &str) -> Option<String> {
    let name = handle(value, &["instagram.com", "www.instagram.com"])?;
    name_chars(name, 1, 30, &['.']).then(|| format!("https://www.instagram.com/{name}/"))
}

/// The image type of a logo by its first bytes (the declared type is not trusted): PNG, JPEG
/// or WebP. SVG is refused: it can carry scripts.
pub fn logo_type(bytes: &[u8]) -> Result<&'static str, BrandError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(invalid(
            "logo",
            format!("at most {} KB", MAX_LOGO_BYTES / 1024),
        ));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Ok("image/jpeg")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok("image/webp")
    } else {
        Err(invalid("logo", "a PNG, JPEG or WebP image"))
    }
}

type BrandRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    DateTime<Utc>,
);

/// The program's brand; all fields empty when none was set.
pub async fn load(pool: &PgPool, program: ProgramId) -> sqlx::Result<Brand> {
    let row: Option<BrandRow> = sqlx::query_as(
        "SELECT display_name, accent_color, vk_url, telegram_url, instagram_url, logo_hash, \
         updated_by, updated_at FROM program_brand WHERE program_id = $1",
    )
    .bind(program.0)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or_else(Brand::default, |r| Brand {
        display_name: r.0,
        accent_color: r.1,
        links: BrandLinks {
            vk: r.2,
            telegram: r.3,
            instagram: r.4,
        },
        logo_hash: r.5,
        updated_by: Some(r.6),
        updated_at: Some(r.7),
    }))
}

/// Replaces the brand's name, colour and links (the logo stays).
pub async fn save(
    pool: &PgPool,
    program: ProgramId,
    brand: &ValidBrand,
    actor: &str,
) -> sqlx::Result<Brand> {
    sqlx::query(
        "INSERT INTO program_brand (program_id, display_name, accent_color, vk_url, telegram_url, \
         instagram_url, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (program_id) DO UPDATE SET display_name = $2, accent_color = $3, \
         vk_url = $4, telegram_url = $5, instagram_url = $6, updated_by = $7, updated_at = now()",
    )
    .bind(program.0)
    .bind(&brand.display_name)
    .bind(&brand.accent_color)
    .bind(&brand.links.vk)
    .bind(&brand.links.telegram)
    .bind(&brand.links.instagram)
    .bind(actor)
    .execute(pool)
    .await?;
    load(pool, program).await
}

/// Sets the logo (checked by [`logo_type`]); answers its hash.
pub async fn set_logo(
    pool: &PgPool,
    program: ProgramId,
    bytes: &[u8],
    actor: &str,
) -> Result<String, BrandError> {
    let content_type = logo_type(bytes)?;
    let hash = hex::encode(Sha256::digest(bytes));
    sqlx::query(
        "INSERT INTO program_brand (program_id, logo, logo_content_type, logo_hash, updated_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (program_id) DO UPDATE SET logo = $2, \
         logo_content_type = $3, logo_hash = $4, updated_by = $5, updated_at = now()",
    )
    .bind(program.0)
    .bind(bytes)
    .bind(content_type)
    .bind(&hash)
    .bind(actor)
    .execute(pool)
    .await?;
    Ok(hash)
}

/// Removes the logo; the rest of the brand stays.
pub async fn remove_logo(pool: &PgPool, program: ProgramId, actor: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE program_brand SET logo = NULL, logo_content_type = NULL, logo_hash = NULL, \
         updated_by = $2, updated_at = now() WHERE program_id = $1",
    )
    .bind(program.0)
    .bind(actor)
    .execute(pool)
    .await?;
    Ok(())
}

/// The program's logo if its hash is `hash` (an old URL finds nothing).
pub async fn logo(pool: &PgPool, program: ProgramId, hash: &str) -> sqlx::Result<Option<Logo>> {
    let row: Option<(Vec<u8>, String)> = sqlx::query_as(
        "SELECT logo, logo_content_type FROM program_brand \
         WHERE program_id = $1 AND logo_hash = $2",
    )
    .bind(program.0)
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(bytes, content_type)| Logo {
        bytes,
        content_type,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(vk: &str, telegram: &str, instagram: &str) -> BrandRequest {
        BrandRequest {
            vk: Some(vk.into()),
            telegram: Some(telegram.into()),
            instagram: Some(instagram.into()),
            ..Default::default()
        }
    }

    #[test]
    fn links_pasted_any_usual_way_become_one_canonical_address() {
        let valid = validate(&request(
            "vk.com/zerno_coffee",
            "@zerno_news",
            "https://www.instagram.com/zerno.coffee/?hl=ru",
        ))
        .unwrap();
        assert_eq!(
            valid.links.vk.as_deref(),
            Some("https://vk.com/zerno_coffee")
        );
        assert_eq!(
            valid.links.telegram.as_deref(),
            Some("https://t.me/zerno_news")
        );
        assert_eq!(
            valid.links.instagram.as_deref(),
            Some("https://www.instagram.com/zerno.coffee/")
        );
        let valid = validate(&request(
            "https://m.vk.com/club123",
            "https://t.me/+AbCdEfGhIjK-1",
            "@zerno",
        ))
        .unwrap();
        assert_eq!(valid.links.vk.as_deref(), Some("https://vk.com/club123"));
        assert_eq!(
            valid.links.telegram.as_deref(),
            Some("https://t.me/+AbCdEfGhIjK-1")
        );
        assert_eq!(
            valid.links.instagram.as_deref(),
            Some("https://www.instagram.com/zerno/")
        );
    }

    #[test]
    fn other_hosts_scripts_and_paths_are_refused_by_field() {
        for (vk, telegram, instagram, field) in [
            ("https://evil.example/vk.com/x", "", "", "vk"),
            ("javascript:alert(1)", "", "", "vk"),
            ("vk.com/a/b", "", "", "vk"),
            ("", "t.me/abc", "", "telegram"),
            ("", "https://t.me.evil.example/zerno_news", "", "telegram"),
            ("", "", "instagram.com/has space", "instagram"),
        ] {
            match validate(&request(vk, telegram, instagram)) {
                Err(BrandError::Invalid { field: f, .. }) => {
                    assert_eq!(f, field, "{vk}{telegram}{instagram}")
                }
                other => panic!("{vk}{telegram}{instagram} gave {other:?}"),
            }
        }
    }

    #[test]
    fn names_and_colours_are_checked_and_blank_clears() {
        let mut r = BrandRequest {
            display_name: Some("  Кофейня «Зерно» ".into()),
            accent_color: Some("#1F6FEB".into()),
            ..Default::default()
        };
        let valid = validate(&r).unwrap();
        assert_eq!(valid.display_name.as_deref(), Some("Кофейня «Зерно»"));
        assert_eq!(valid.accent_color.as_deref(), Some("#1f6feb"));
        r.accent_color = Some("red".into());
        assert!(matches!(
            validate(&r),
            Err(BrandError::Invalid {
                field: "accent_color",
                ..
            })
        ));
        r.accent_color = Some(" ".into());
        r.display_name = Some("a\nb".into());
        assert!(matches!(
            validate(&r),
            Err(BrandError::Invalid {
                field: "display_name",
                ..
            })
        ));
        r.display_name = Some("я".repeat(65));
        assert!(matches!(
            validate(&r),
            Err(BrandError::Invalid {
                field: "display_name",
                ..
            })
        ));
        assert_eq!(
            validate(&BrandRequest::default()).unwrap().display_name,
            None
        );
    }

    #[test]
    fn a_logo_is_typed_by_its_bytes_and_svg_is_refused() {
        assert_eq!(logo_type(b"\x89PNG\r\n\x1a\n....").unwrap(), "image/png");
        assert_eq!(
            logo_type(&[0xff, 0xd8, 0xff, 0xe0, 0]).unwrap(),
            "image/jpeg"
        );
        assert_eq!(logo_type(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), "image/webp");
        assert!(logo_type(b"<svg onload=alert(1)>").is_err());
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert!(logo_type(&big).is_err());
    }
}
