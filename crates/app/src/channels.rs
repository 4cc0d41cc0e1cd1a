//! Connecting a program's channels (an Instagram brand account, a VK group, a Telegram group or
//! channel) without SQL: the input is checked, a destination belongs to one program at most,
//! every change is recorded in `channel_changes` (who, when, what; never a secret), and each
//! channel shows whether its deliveries arrive. Routing itself is `ingest::channels`.

use crate::ingest::channels::ChannelCache;
use chrono::{DateTime, Utc};
use domain::ids::ProgramId;
use domain::network::Network;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest Instagram access token taken (Meta's are a few hundred characters).
const MAX_ACCESS_TOKEN: usize = 1_024;

/// Longest VK Callback API secret key VK accepts.
const MAX_VK_SECRET: usize = 50;
/// Longest confirmation string accepted (VK's are 8 characters).
const MAX_CONFIRMATION: usize = 64;

/// A channel as a manager asks for it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChannelRequest {
    /// `instagram`, `vk` or `telegram`.
    pub network: String,
    /// Instagram professional account id; VK group id (`123`, `-123`, `club123` and `public123`
    /// are read alike); Telegram group or channel chat id (negative).
    pub destination: String,
    /// VK only: the Callback API secret key set in the group's settings.
    #[serde(default)]
    pub secret: Option<String>,
    /// VK only: the confirmation string VK shows on the Callback API page.
    #[serde(default)]
    pub confirmation: Option<String>,
}

/// A request that passed the checks: the destination as routing knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidChannel {
    pub network: Network,
    pub destination: String,
    pub secret: Option<String>,
    pub confirmation: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The request cannot be a channel; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Another program receives this destination's deliveries.
    #[error("{network} {destination} is connected to another program")]
    Taken {
        network: Network,
        destination: String,
    },
    #[error("this program has no {network} channel {destination}")]
    NotFound {
        network: Network,
        destination: String,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Checks a request and puts the destination in the form deliveries name it.
pub fn validate(request: &ChannelRequest) -> Result<ValidChannel, ChannelError> {
    let invalid = |why: String| Err(ChannelError::Invalid(why));
    let Some(network) = Network::parse(request.network.trim()) else {
        return invalid(format!(
            "network must be instagram, vk or telegram, not {:?}",
            request.network
        ));
    };
    let secret = non_empty(&request.secret);
    let confirmation = non_empty(&request.confirmation);
    let raw = request.destination.trim();
    let destination = match network {
        Network::Vk => {
            let digits = raw
                .strip_prefix("club")
                .or_else(|| raw.strip_prefix("public"))
                .or_else(|| raw.strip_prefix('-'))
                .unwrap_or(raw);
            match digits.parse::<u64>() {
                Ok(id) if id > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => id.to_string(),
                _ => {
                    return invalid(format!(
                        "a VK group id is a positive number (as in vk.com/club123), not {raw:?}"
                    ));
                }
            }
        }
        Network::Instagram => {
            if raw.len() < 5 || raw.len() > 25 || !raw.bytes().all(|b| b.is_ascii_digit()) {
                return invalid(format!(
                    "an Instagram account id is the number Meta shows for the professional \
                     account (in webhooks it is entry.id), not {raw:?}"
                ));
            }
            raw.to_string()
        }
        Network::Telegram => match raw.parse::<i64>() {
            Ok(id) if id < 0 => id.to_string(),
            Ok(_) => {
                return invalid(
                    "a Telegram group or channel id is negative; a positive id is a person's \
                     private chat"
                        .into(),
                );
            }
            Err(_) => {
                return invalid(format!(
                    "a Telegram chat is connected by its numeric id (such as -1001234567890), \
                     not {raw:?}; once the bot is an administrator there, the chat is offered \
                     for connecting"
                ));
            }
        },
    };
    match network {
        Network::Vk => {
            let Some(secret) = secret.as_deref() else {
                return invalid(
                    "a VK group needs its Callback API secret key (Manage → API → Callback API)"
                        .into(),
                );
            };
            if secret.len() > MAX_VK_SECRET || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return invalid(format!(
                    "a VK secret key is 1 to {MAX_VK_SECRET} Latin letters and digits"
                ));
            }
            let Some(confirmation) = confirmation.as_deref() else {
                return invalid(
                    "a VK group needs the confirmation string shown on its Callback API page"
                        .into(),
                );
            };
            if confirmation.len() > MAX_CONFIRMATION
                || !confirmation.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return invalid(format!(
                    "a VK confirmation string is 1 to {MAX_CONFIRMATION} Latin letters and digits"
                ));
            }
        }
        // An Instagram channel may carry the brand's access token: it looks up comments
        // elsewhere that mention the brand (the `mentions` webhook names only their ids).
        Network::Instagram if confirmation.is_some() => {
            return invalid(
                "an Instagram channel takes no confirmation string; its secret is the brand's \
                 access token for looking mentions up"
                    .into(),
            );
        }
        Network::Instagram => {
            if let Some(token) = secret.as_deref()
                && (token.len() > MAX_ACCESS_TOKEN
                    || !token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.|".contains(&b)))
            {
                return invalid(format!(
                    "an Instagram access token is up to {MAX_ACCESS_TOKEN} letters, digits and \
                     `-_.|`, as Meta issues it"
                ));
            }
        }
        Network::Telegram if secret.is_some() || confirmation.is_some() => {
            return invalid(format!(
                "a {network} channel takes no secret or confirmation: the app secret and \
                 tokens are set in the server's configuration"
            ));
        }
        _ => {}
    }
    Ok(ValidChannel {
        network,
        destination,
        secret,
        confirmation,
    })
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// What `connect` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Connected {
    /// The destination is now the program's.
    Connected,
    /// It was already; its secret or confirmation changed.
    Changed,
    /// It was already, with these settings: nothing changed.
    Unchanged,
}

/// Connects a destination to a program, or changes its VK secret and confirmation; refused when
/// another program has it. Recorded in `channel_changes` with `actor`.
pub async fn connect(
    pool: &PgPool,
    cache: &ChannelCache,
    program_id: ProgramId,
    channel: &ValidChannel,
    actor: &str,
) -> Result<Connected, ChannelError> {
    let row = crate::secrets::channel_row(channel.network.as_str(), &channel.destination);
    let sealed = channel
        .secret
        .as_deref()
        .map(|secret| cache.secrets().seal(secret, &row));
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO channels (network, destination, program_id, secret, confirmation) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (network, destination) DO NOTHING",
    )
    .bind(channel.network.as_str())
    .bind(&channel.destination)
    .bind(program_id.0)
    .bind(&sealed)
    .bind(&channel.confirmation)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let (outcome, detail) = if inserted {
        let detail = if channel.secret.is_some() {
            "secret key and confirmation string set"
        } else {
            ""
        };
        (Connected::Connected, detail.to_string())
    } else {
        let (owner, secret, confirmation): (Uuid, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT program_id, secret, confirmation FROM channels \
                 WHERE network = $1 AND destination = $2 FOR UPDATE",
        )
        .bind(channel.network.as_str())
        .bind(&channel.destination)
        .fetch_one(&mut *tx)
        .await?;
        if owner != program_id.0 {
            return Err(ChannelError::Taken {
                network: channel.network,
                destination: channel.destination.clone(),
            });
        }
        // A stored secret no configured key opens counts as changed: it is replaced.
        let secret = secret.map(|stored| cache.secrets().open(&stored, &row).unwrap_or_default());
        let mut changed = Vec::new();
        if secret != channel.secret {
            changed.push("secret key changed");
        }
        if confirmation != channel.confirmation {
            changed.push("confirmation string changed");
        }
        if changed.is_empty() {
            return Ok(Connected::Unchanged);
        }
        sqlx::query(
            "UPDATE channels SET secret = $3, confirmation = $4 \
             WHERE network = $1 AND destination = $2",
        )
        .bind(channel.network.as_str())
        .bind(&channel.destination)
        .bind(&sealed)
        .bind(&channel.confirmation)
        .execute(&mut *tx)
        .await?;
        (Connected::Changed, changed.join(", "))
    };
    let action = match outcome {
        Connected::Connected => "connected",
        _ => "changed",
    };
    let change = Change {
        program_id,
        network: channel.network,
        destination: &channel.destination,
        actor,
        action,
        detail: &detail,
    };
    change.record(&mut tx).await?;
    tx.commit().await?;
    cache.forget(channel.network, &channel.destination);
    Ok(outcome)
}

/// Disconnects one of the program's channels: its deliveries are unrouted from now on.
pub async fn disconnect(
    pool: &PgPool,
    cache: &ChannelCache,
    program_id: ProgramId,
    network: Network,
    destination: &str,
    actor: &str,
) -> Result<(), ChannelError> {
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query(
        "DELETE FROM channels WHERE network = $1 AND destination = $2 AND program_id = $3",
    )
    .bind(network.as_str())
    .bind(destination)
    .bind(program_id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted == 0 {
        return Err(ChannelError::NotFound {
            network,
            destination: destination.to_string(),
        });
    }
    let change = Change {
        program_id,
        network,
        destination,
        actor,
        action: "disconnected",
        detail: "",
    };
    change.record(&mut tx).await?;
    tx.commit().await?;
    cache.forget(network, destination);
    Ok(())
}

/// A row of `channel_changes` about to be written.
struct Change<'a> {
    program_id: ProgramId,
    network: Network,
    destination: &'a str,
    actor: &'a str,
    action: &'a str,
    detail: &'a str,
}

impl Change<'_> {
    async fn record(&self, tx: &mut sqlx::PgConnection) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO channel_changes (actor, action, network, destination, program_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.actor)
        .bind(self.action)
        .bind(self.network.as_str())
        .bind(self.destination)
        .bind(self.program_id.0)
        .bind(self.detail)
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A channel and whether its deliveries arrive.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ChannelStatus {
    /// `instagram`, `vk` or `telegram`.
    pub network: String,
    /// Instagram account id, VK group id or Telegram chat id.
    pub destination: String,
    pub connected_at: DateTime<Utc>,
    /// When a delivery for it last reached the program (to within 30 seconds); none yet means
    /// the platform is not sending, or sends to another address.
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// Deliveries refused: VK for a secret key not the channel's, Instagram for a signature not
    /// the app secret's.
    pub refused: i64,
    pub last_refused_at: Option<DateTime<Utc>>,
    /// Whether a VK secret key and confirmation string are set (never the values).
    pub has_secret: bool,
    pub has_confirmation: bool,
    /// Telegram: the chat's title and the bot's role there (`administrator`, `member`,
    /// `removed`), as the bot last learnt them; none until the bot is told of a change.
    pub title: Option<String>,
    pub bot_role: Option<String>,
}

/// The program's channels with their health.
pub async fn statuses(pool: &PgPool, program_id: ProgramId) -> sqlx::Result<Vec<ChannelStatus>> {
    sqlx::query_as(
        "SELECT c.network, c.destination, c.created_at AS connected_at, c.last_delivery_at, \
                coalesce(r.deliveries, 0) AS refused, r.last_seen AS last_refused_at, \
                c.secret IS NOT NULL AS has_secret, c.confirmation IS NOT NULL AS has_confirmation, \
                b.title, b.role AS bot_role \
         FROM channels c \
         LEFT JOIN (SELECT network, destination, sum(deliveries)::bigint AS deliveries, \
                           max(last_seen) AS last_seen FROM unrouted_destinations \
                    WHERE reason IN ('wrong_secret', 'bad_signature') \
                    GROUP BY network, destination) r \
              ON r.network = c.network AND r.destination = c.destination \
         LEFT JOIN bot_group_chats b ON c.network = 'telegram' AND b.chat_id = c.destination \
         WHERE c.program_id = $1 ORDER BY c.network, c.destination",
    )
    .bind(program_id.0)
    .fetch_all(pool)
    .await
}

/// One change to a program's channels.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ChannelChange {
    pub at: DateTime<Utc>,
    /// `manager:<username>` in the panel and API, `cli` on the command line.
    pub actor: String,
    /// `connected`, `changed` or `disconnected`.
    pub action: String,
    pub network: String,
    pub destination: String,
    pub detail: String,
}

/// The program's channel changes, newest first.
pub async fn changes(
    pool: &PgPool,
    program_id: ProgramId,
    limit: i64,
) -> sqlx::Result<Vec<ChannelChange>> {
    sqlx::query_as(
        "SELECT at, actor, action, network, destination, detail FROM channel_changes \
         WHERE program_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(program_id.0)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A Telegram group or channel the bot administers that no program has connected.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct OfferedChat {
    pub chat_id: String,
    /// `group`, `supergroup` or `channel`; none when only a check has seen it.
    pub chat_type: Option<String>,
    pub title: Option<String>,
    pub since: DateTime<Utc>,
}

/// Chats offered to `program` for connecting: the program's bot (its own, else the configured
/// one; the configured one when no program is given) is an administrator there, and no
/// program has them.
pub async fn offered_chats(
    pool: &PgPool,
    program: Option<ProgramId>,
    limit: i64,
) -> sqlx::Result<Vec<OfferedChat>> {
    sqlx::query_as(
        "SELECT b.chat_id, b.chat_type, b.title, b.changed_at AS since FROM bot_group_chats b \
         WHERE b.role = 'administrator' AND b.bot_id = coalesce( \
               (SELECT pb.bot_id FROM program_bots pb WHERE pb.program_id = $2), 0) \
           AND NOT EXISTS (SELECT 1 FROM channels c \
               WHERE c.network = 'telegram' AND c.destination = b.chat_id) \
         ORDER BY b.changed_at DESC LIMIT $1",
    )
    .bind(limit)
    .bind(program.map(|p| p.0))
    .fetch_all(pool)
    .await
}

/// The bot's role in a group or channel changed (`my_chat_member`), or a check learnt it.
/// A check knows only the role: the type and title stay as `my_chat_member` told them.
pub async fn record_bot_chat(
    pool: &PgPool,
    bot: i64,
    chat_id: &str,
    chat_type: Option<&str>,
    title: Option<&str>,
    role: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bot_group_chats (chat_id, chat_type, title, role, bot_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chat_id) DO UPDATE SET \
         chat_type = coalesce(EXCLUDED.chat_type, bot_group_chats.chat_type), \
         title = coalesce(EXCLUDED.title, bot_group_chats.title), role = EXCLUDED.role, \
         bot_id = EXCLUDED.bot_id, changed_at = now()",
    )
    .bind(chat_id)
    .bind(chat_type)
    .bind(title)
    .bind(role)
    .bind(bot)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        network: &str,
        destination: &str,
        secret: Option<&str>,
        confirmation: Option<&str>,
    ) -> ChannelRequest {
        ChannelRequest {
            network: network.into(),
            destination: destination.into(),
            secret: secret.map(Into::into),
            confirmation: confirmation.map(Into::into),
        }
    }

    fn error(request: &ChannelRequest) -> String {
        match validate(request) {
            Err(ChannelError::Invalid(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn vk_groups_are_read_in_every_usual_form_and_need_their_secret_and_confirmation() {
        for form in [
            "229871234",
            "-229871234",
            "club229871234",
            "public229871234",
            " 229871234 ",
        ] {
            let valid = validate(&request("vk", form, Some("s3cret"), Some("a1b2c3d4"))).unwrap();
            assert_eq!(valid.destination, "229871234", "{form}");
        }
        assert!(error(&request("vk", "0", Some("s"), Some("c"))).contains("positive number"));
        assert!(error(&request("vk", "vk.com/brand", Some("s"), Some("c"))).contains("positive"));
        assert!(error(&request("vk", "1", None, Some("c"))).contains("secret key"));
        assert!(error(&request("vk", "1", Some("  "), Some("c"))).contains("secret key"));
        assert!(error(&request("vk", "1", Some("s"), None)).contains("confirmation"));
        assert!(error(&request("vk", "1", Some("not secret!"), Some("c"))).contains("Latin"));
        assert!(error(&request("vk", "1", Some(&"s".repeat(51)), Some("c"))).contains("50"));
    }

    #[test]
    fn instagram_takes_an_id_and_maybe_a_token_telegram_an_id_alone() {
        let ig = validate(&request("instagram", "17841400000000001", None, None)).unwrap();
        assert_eq!(
            (ig.network, ig.destination.as_str()),
            (Network::Instagram, "17841400000000001")
        );
        assert!(error(&request("instagram", "@brand", None, None)).contains("entry.id"));
        let token = "IGQVJ-abc_12.3|x";
        let with_token = request("instagram", "17841400000000001", Some(token), None);
        assert_eq!(
            validate(&with_token).unwrap().secret.as_deref(),
            Some(token)
        );
        assert!(
            error(&request(
                "instagram",
                "17841400000000001",
                Some("a b"),
                None
            ))
            .contains("access token")
        );
        assert!(
            error(&request("instagram", "17841400000000001", None, Some("c")))
                .contains("no confirmation")
        );
        let tg = validate(&request("telegram", "-1001234567890", None, None)).unwrap();
        assert_eq!(tg.destination, "-1001234567890");
        assert!(error(&request("telegram", "715002001", None, None)).contains("private chat"));
        assert!(error(&request("telegram", "@brand_channel", None, None)).contains("numeric id"));
        assert!(error(&request("telegram", "-1", None, Some("c"))).contains("no secret"));
        assert!(error(&request("mastodon", "1", None, None)).contains("instagram, vk or telegram"));
    }
}
