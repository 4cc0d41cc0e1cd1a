//! The program's brand in the Mini App (`me.brand`) and its logo at
//! `/app/brand/{program_id}/logo/{hash}`: public (a logo is no secret), cached for ever
//! because a new logo has a new hash.

use crate::AppState;
use crate::error::ApiError;
use app::ProgramContext;
use app::brand::BrandLinks;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use axum::response::IntoResponse;
use domain::ids::ProgramId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrandView {
    /// The brand's display name, else the program's name.
    pub name: String,
    /// `#rrggbb`; `None` keeps Telegram's theme colours.
    pub accent_color: Option<String>,
    /// Where the logo is served; `None` without one.
    pub logo_url: Option<String>,
    pub links: BrandLinks,
}

pub async fn view(state: &AppState, program: &ProgramContext) -> Result<BrandView, ApiError> {
    let brand = app::brand::load(&state.pool, program.program_id).await?;
    Ok(BrandView {
        name: brand.display_name.unwrap_or_else(|| program.name.clone()),
        accent_color: brand.accent_color,
        logo_url: brand
            .logo_hash
            .map(|hash| format!("/app/brand/{}/logo/{hash}", program.program_id)),
        links: brand.links,
    })
}

pub async fn logo(
    State(state): State<AppState>,
    Path((program_id, hash)): Path<(Uuid, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let logo = app::brand::logo(&state.pool, ProgramId(program_id), &hash)
        .await?
        .ok_or_else(|| ApiError::not_found("no such logo"))?;
    let content_type =
        axum::http::HeaderValue::from_str(&logo.content_type).map_err(ApiError::internal)?;
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (
                CACHE_CONTROL,
                axum::http::HeaderValue::from_static(crate::assets::IMMUTABLE),
            ),
            (
                HeaderName::from_static("x-content-type-options"),
                axum::http::HeaderValue::from_static("nosniff"),
            ),
        ],
        logo.bytes,
    ))
}
