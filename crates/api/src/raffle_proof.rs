//! The public proof of a raffle's draw: anyone can take the revealed seed and the tickets in
//! log order, run the published algorithm and get the recorded winners. No sign-in: it names
//! tickets (entry ids), never members. The page at `/raffles/{id}` runs that check in the
//! visitor's browser (WebCrypto), trusting nothing the server says about the result.

use crate::AppState;
use crate::assets::{Assets, Extra, File, Page};
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use domain::StreamId;
use domain::ids::{EntryId, RaffleId};
use domain::raffle::RaffleState;
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::new()
        .routes(routes!(proof))
        .route("/raffles/{raffle_id}", get(page));
    ASSETS
        .paths()
        .fold(router, |router, path| router.route(path, get(file)))
}

const SECURITY: &Extra = &[
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
];

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    Assets::new(
        &[
            File {
                path: "/raffles/proof.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../assets/raffle/proof.js"),
            },
            File {
                path: "/raffles/proof.css",
                content_type: "text/css; charset=utf-8",
                body: include_str!("../assets/raffle/proof.css"),
            },
        ],
        &[Page {
            name: "proof",
            html: include_str!("../assets/raffle/proof.html"),
        }],
    )
});

/// The same page for every raffle: its script reads the id from the address.
async fn page(request: HeaderMap) -> Response {
    ASSETS.page("proof", &request, SECURITY)
}

async fn file(uri: Uri, request: HeaderMap) -> Response {
    ASSETS.file(uri.path(), &request, SECURITY)
}

/// How the winners follow from the seed, for anyone checking with their own code.
pub const ALGORITHM: &str = "Tickets in log order; for i = 0, 1, …: n = tickets left; k = 0, 1, … \
    until x < 2^64 − 1 − ((2^64 − 1) mod n), where x = the first 8 bytes (big-endian) of \
    SHA-256(seed ‖ i as 8 bytes big-endian ‖ k as 8 bytes big-endian); swap ticket i with \
    ticket i + (x mod n); ticket i wins unless its holder (`holders`) already won; stop at the \
    number of winners. The commitment is SHA-256(seed).";

#[derive(Debug, Serialize, ToSchema)]
pub struct Proof {
    pub raffle_id: Uuid,
    pub title: String,
    /// Hex SHA-256 of the seed, published when the raffle opened.
    pub commitment: String,
    /// The seed, hex; `null` until the draw.
    pub seed: Option<String>,
    /// How many members the raffle said would win.
    pub winners_wanted: u32,
    /// Every ticket in log order.
    pub tickets: Vec<Uuid>,
    /// Each ticket's holder as a number (0 for the first member to buy, …), never who.
    pub holders: Vec<u32>,
    /// The winning tickets the log records.
    pub winners: Vec<Uuid>,
    /// The server's own check: the seed matches the commitment and the algorithm gives the
    /// recorded winners; `null` until the draw.
    pub verified: Option<bool>,
    pub algorithm: &'static str,
}

#[utoipa::path(
    get,
    path = "/api/v1/raffles/{raffle_id}/proof",
    tag = "public",
    params(("raffle_id" = Uuid, Path)),
    responses((status = 200, body = Proof), (status = 404))
)]
pub async fn proof(
    State(state): State<AppState>,
    Path(raffle_id): Path<Uuid>,
) -> Result<Json<Proof>, ApiError> {
    let raffle = state
        .ledger()
        .load::<RaffleState>(&StreamId::Raffle(RaffleId(raffle_id)))
        .await?
        .state;
    if raffle.raffle_id.is_none() {
        return Err(ApiError::not_found("no such raffle"));
    }
    let proof = app::raffles::proof(&raffle);
    let ids = |entries: &[EntryId]| entries.iter().map(|e| e.0).collect();
    Ok(Json(Proof {
        raffle_id,
        title: raffle.title,
        commitment: proof.commitment,
        seed: proof.seed,
        winners_wanted: raffle.winners,
        tickets: ids(&proof.tickets),
        holders: proof.holders,
        winners: ids(&proof.recorded_winners),
        verified: proof.verified,
        algorithm: ALGORITHM,
    }))
}
