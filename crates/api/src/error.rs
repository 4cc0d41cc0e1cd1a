//! One JSON error envelope for every failure: `{"error": {"code": "...", "message": "..."}}`.
//! A 5xx logs its cause once and does not leak it.

use app::AppError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        (self.status, body).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Denied(denied) => {
                let status = match denied {
                    DomainError::NotFound
                    | DomainError::EntryNotFound(_)
                    | DomainError::RedemptionNotFound => StatusCode::NOT_FOUND,
                    DomainError::InvalidAmount(_)
                    | DomainError::ReasonRequired
                    | DomainError::InvalidPeriod
                    | DomainError::InvalidRules(_)
                    | DomainError::InvalidCodeword(_)
                    | DomainError::TooManyCodes(_)
                    | DomainError::InvalidCode(_)
                    | DomainError::InvalidRaffle(_)
                    | DomainError::InvalidSeason(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::CONFLICT,
                };
                Self::new(status, denied_code(&denied), denied.to_string())
            }
            AppError::TooManyConflicts(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many concurrent changes; try again",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<app::channels::ChannelError> for ApiError {
    fn from(e: app::channels::ChannelError) -> Self {
        use app::channels::ChannelError;
        match e {
            ChannelError::Invalid(why) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_channel", why)
            }
            ChannelError::Taken { .. } => {
                Self::new(StatusCode::CONFLICT, "channel_taken", e.to_string())
            }
            ChannelError::NotFound { .. } => Self::not_found(e.to_string()),
            ChannelError::Database(e) => Self::internal(e),
        }
    }
}

impl From<app::program_bots::ProgramBotError> for ApiError {
    fn from(e: app::program_bots::ProgramBotError) -> Self {
        use app::program_bots::ProgramBotError;
        match e {
            ProgramBotError::Invalid(why) => Self::new(StatusCode::BAD_REQUEST, "invalid_bot", why),
            ProgramBotError::Taken(_) => {
                Self::new(StatusCode::CONFLICT, "bot_taken", e.to_string())
            }
            ProgramBotError::NotFound => Self::not_found(e.to_string()),
            ProgramBotError::Secret(_) => Self::internal(e),
            ProgramBotError::Database(e) => Self::internal(e),
        }
    }
}

impl From<app::managers_chat::ManagersChatError> for ApiError {
    fn from(e: app::managers_chat::ManagersChatError) -> Self {
        use app::managers_chat::ManagersChatError;
        match e {
            ManagersChatError::Invalid(why) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_managers_chat", why)
            }
            ManagersChatError::Taken => {
                Self::new(StatusCode::CONFLICT, "managers_chat_taken", e.to_string())
            }
            ManagersChatError::NotConnected => Self::not_found(e.to_string()),
            ManagersChatError::Database(e) => Self::internal(e),
        }
    }
}

impl From<app::brand::BrandError> for ApiError {
    fn from(e: app::brand::BrandError) -> Self {
        match e {
            app::brand::BrandError::Invalid { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_brand",
                e.to_string(),
            ),
            app::brand::BrandError::Database(e) => Self::internal(e),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

fn denied_code(e: &DomainError) -> &'static str {
    match e {
        DomainError::InvalidAmount(_) => "invalid_amount",
        DomainError::InsufficientBalance { .. } => "insufficient_balance",
        DomainError::CodewordAlreadyUsed => "codeword_already_used",
        DomainError::CampaignCapReached { .. } => "campaign_cap_reached",
        DomainError::CampaignNotActive => "campaign_not_active",
        DomainError::NetworkNotAllowed => "network_not_allowed",
        DomainError::RewardOutOfStock => "reward_out_of_stock",
        DomainError::RewardNotAvailable => "reward_not_available",
        DomainError::IdentityAlreadyClaimed(_) => "identity_already_claimed",
        DomainError::IdentityNotLinked(_) => "identity_not_linked",
        DomainError::RelinkCooldown { .. } => "relink_cooldown",
        DomainError::DuplicateActivity => "duplicate_activity",
        DomainError::DuplicateText => "duplicate_text",
        DomainError::DailyCapReached { .. } => "daily_cap_reached",
        DomainError::CooldownActive => "cooldown_active",
        DomainError::MemberBlocked(_) => "member_blocked",
        DomainError::MemberErased => "member_erased",
        DomainError::MemberNotRegistered => "member_not_registered",
        DomainError::AlreadyRegistered => "already_registered",
        DomainError::EntryNotFound(_) => "entry_not_found",
        DomainError::AlreadyCompensated(_) => "already_compensated",
        DomainError::AlreadyReviewed(_) => "already_reviewed",
        DomainError::RedemptionNotFound => "redemption_not_found",
        DomainError::ReasonRequired => "reason_required",
        DomainError::InvalidPeriod => "invalid_period",
        DomainError::AlreadyExists => "already_exists",
        DomainError::NotFound => "not_found",
        DomainError::InvalidRules(_) => "invalid_rules",
        DomainError::InvalidCodeword(_) => "invalid_codeword",
        DomainError::CodewordTaken(_) => "codeword_taken",
        DomainError::CouponPoolStock => "coupon_pool_stock",
        DomainError::NotACouponPool => "not_a_coupon_pool",
        DomainError::TooManyCodes(_) => "too_many_codes",
        DomainError::InvalidCode(_) => "invalid_code",
        DomainError::CouponAlreadyUsed(_) => "coupon_already_used",
        DomainError::CouponCancelled => "coupon_cancelled",
        DomainError::RaffleClosed => "raffle_closed",
        DomainError::RaffleNotEnded => "raffle_not_ended",
        DomainError::RaffleAlreadyDrawn => "raffle_already_drawn",
        DomainError::RaffleCancelled => "raffle_cancelled",
        DomainError::RaffleTicketLimit(_) => "raffle_ticket_limit",
        DomainError::RaffleWithoutTickets => "raffle_without_tickets",
        DomainError::InvalidRaffle(_) => "invalid_raffle",
        DomainError::InvalidSeason(_) => "invalid_season",
        DomainError::SeasonClosed => "season_closed",
        DomainError::SeasonNotEnded => "season_not_ended",
    }
}

#[cfg(test)]
mod tests {
    use super::denied_code;
    use domain::DomainError;
    use domain::ids::{EntryId, MemberId};

    /// The admin panel's texts: English first, then Russian.
    const PANEL_TEXTS: &str = include_str!("../assets/admin/i18n.js");

    /// Every refusal a manager's action can meet, and the envelope's own codes, read in the
    /// panel's language:
    /// a manager never gets an English sentence from the server in the Russian panel.
    #[test]
    fn the_panel_explains_every_refusal_in_english_and_russian() {
        let russian_from = PANEL_TEXTS.find("\n  ru: {").expect("a Russian section");
        let (english, russian) = PANEL_TEXTS.split_at(russian_from);
        let member = MemberId(uuid::Uuid::nil());
        let entry = EntryId(uuid::Uuid::nil());
        let refusals = [
            DomainError::InvalidAmount(0),
            DomainError::InsufficientBalance {
                balance: 0,
                needed: 1,
            },
            DomainError::CodewordAlreadyUsed,
            DomainError::CampaignNotActive,
            DomainError::RewardOutOfStock,
            DomainError::RewardNotAvailable,
            DomainError::MemberBlocked(member),
            DomainError::MemberErased,
            DomainError::MemberNotRegistered,
            DomainError::EntryNotFound(entry),
            DomainError::AlreadyCompensated(entry),
            DomainError::AlreadyReviewed(entry),
            DomainError::RedemptionNotFound,
            DomainError::ReasonRequired,
            DomainError::InvalidPeriod,
            DomainError::AlreadyExists,
            DomainError::NotFound,
            DomainError::InvalidRules(String::new()),
            DomainError::InvalidCodeword(String::new()),
            DomainError::CodewordTaken(domain::ids::CampaignId(uuid::Uuid::nil())),
            DomainError::CouponPoolStock,
            DomainError::NotACouponPool,
            DomainError::TooManyCodes(1),
            DomainError::InvalidCode(String::new()),
            DomainError::CouponAlreadyUsed(domain::Timestamp::new(chrono::DateTime::UNIX_EPOCH)),
            DomainError::CouponCancelled,
            DomainError::RaffleClosed,
            DomainError::RaffleNotEnded,
            DomainError::RaffleAlreadyDrawn,
            DomainError::RaffleCancelled,
            DomainError::RaffleTicketLimit(1),
            DomainError::RaffleWithoutTickets,
            DomainError::InvalidRaffle(String::new()),
            DomainError::InvalidSeason(String::new()),
            DomainError::SeasonClosed,
            DomainError::SeasonNotEnded,
        ];
        let envelope = [
            "bad_request",
            "unauthorized",
            "forbidden",
            "not_found",
            "internal",
            "invalid_body",
            "large_adjustment_unconfirmed",
            "telegram_refused",
            "telegram_taken",
            "invalid_broadcast",
            "broadcast_finished",
            "invalid_status",
        ];
        let codes = refusals.iter().map(denied_code).chain(envelope);
        for code in codes {
            let key = format!("\"error.{code}\":");
            assert!(english.contains(&key), "{key} missing in English");
            assert!(russian.contains(&key), "{key} missing in Russian");
        }
    }
}
