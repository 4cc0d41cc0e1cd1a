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
use chrono::{DateTime, Utc};
use domain::DomainError;
use domain::StreamId;
use domain::ids::{EntryId, RaffleId};
use domain::network::{ActivityKind, Network};
use domain::raffle::{ActivityRule, EntryRule, RaffleState};
use serde::{Deserialize, Serialize};
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

/// A raffle's entry rule as the panel, the Mini App and the proof show it, and as the panel
/// sends it: `tickets`, or `activity` with an optional kind and network and the period's start
/// (the period ends at the raffle's end).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryRuleView {
    /// `tickets` or `activity`.
    pub rule: String,
    /// The activity kind (`comment`, `reaction`, …); `null` is any points-earning activity.
    pub kind: Option<String>,
    /// `instagram`, `vk` or `telegram`; `null` is any network.
    pub network: Option<String>,
    /// The period's start, for an activity rule.
    pub from: Option<DateTime<Utc>>,
}

impl From<EntryRule> for EntryRuleView {
    fn from(rule: EntryRule) -> Self {
        match rule {
            EntryRule::Tickets => Self {
                rule: "tickets".into(),
                kind: None,
                network: None,
                from: None,
            },
            EntryRule::Activity(a) => Self {
                rule: "activity".into(),
                kind: a.kind.map(|k| k.as_str().to_string()),
                network: a.network.map(|n| n.as_str().to_string()),
                from: Some(a.from.get()),
            },
        }
    }
}

impl TryFrom<EntryRuleView> for EntryRule {
    type Error = DomainError;
    fn try_from(view: EntryRuleView) -> Result<Self, DomainError> {
        let invalid = |why: &str| DomainError::InvalidRaffle(why.into());
        match view.rule.as_str() {
            "tickets" => Ok(EntryRule::Tickets),
            "activity" => {
                let kind = match view.kind.as_deref().filter(|k| !k.is_empty()) {
                    None => None,
                    Some(k) => Some(
                        ActivityKind::parse(k)
                            .ok_or_else(|| invalid("an unknown activity kind"))?,
                    ),
                };
                let network = match view.network.as_deref().filter(|n| !n.is_empty()) {
                    None => None,
                    Some(n) => {
                        Some(Network::parse(n).ok_or_else(|| invalid("an unknown network"))?)
                    }
                };
                let from = view.from.ok_or_else(|| invalid("the period's start"))?;
                Ok(EntryRule::Activity(ActivityRule {
                    kind,
                    network,
                    from: from.into(),
                }))
            }
            _ => Err(invalid("the entry rule is tickets or activity")),
        }
    }
}

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
    /// How members entered; an activity raffle's entries (one per member, named by their first
    /// matching award) are appended at the draw, and `loyalty audit raffle` recomputes them
    /// from the log.
    pub entry_rule: EntryRuleView,
    /// The end of entries (and of an activity rule's period).
    pub ends_at: Option<DateTime<Utc>>,
    /// Every ticket (entry) in log order.
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
        entry_rule: raffle.entry_rule.into(),
        ends_at: raffle.ends_at.map(|t| t.get()),
        tickets: ids(&proof.tickets),
        holders: proof.holders,
        winners: ids(&proof.recorded_winners),
        verified: proof.verified,
        algorithm: ALGORITHM,
    }))
}
