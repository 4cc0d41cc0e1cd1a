//! The last check per member and channel (`subscription_checks`): repeated taps within a few
//! seconds get it back instead of asking VK and Telegram again.

use super::{ChannelStatus, INSTAGRAM_HINT};
use app::AppContext;
use app::ProgramContext;
use chrono::{DateTime, Utc};
use domain::ids::MemberId;
use domain::network::Network;
use serde::Serialize;

/// The last stored check of a member, if it is younger than `max_age_secs`.
pub async fn recent(
    state: &AppContext,
    program: &ProgramContext,
    member: MemberId,
    max_age_secs: i64,
) -> sqlx::Result<Option<(DateTime<Utc>, Vec<ChannelStatus>)>> {
    type Row = (String, String, String, String, Option<i64>, DateTime<Utc>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT network, channel, status, bonus, points, checked_at FROM subscription_checks \
         WHERE program_id = $1 AND member_id = $2 \
           AND checked_at > now() - make_interval(secs => $3) ORDER BY network, channel",
    )
    .bind(program.program_id.0)
    .bind(member.0)
    .bind(max_age_secs as f64)
    .fetch_all(&state.pool)
    .await?;
    let Some(checked_at) = rows.iter().map(|r| r.5).max() else {
        return Ok(None);
    };
    let statuses = rows
        .into_iter()
        .filter_map(|(network, channel, status, bonus, points, _)| {
            Some(ChannelStatus {
                channel: (!channel.is_empty()).then_some(channel),
                status: serde_json::from_value(serde_json::Value::String(status)).ok()?,
                bonus: serde_json::from_value(serde_json::Value::String(bonus)).ok()?,
                points,
                detail: (network == Network::Instagram.as_str()).then(|| INSTAGRAM_HINT.to_owned()),
                network,
            })
        })
        .collect();
    Ok(Some((checked_at, statuses)))
}

/// Stores a check's result (one row per channel, replacing the previous check).
pub async fn save(
    state: &AppContext,
    program: &ProgramContext,
    member: MemberId,
    statuses: &[ChannelStatus],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    for status in statuses {
        sqlx::query(
            "INSERT INTO subscription_checks (program_id, member_id, network, channel, status, \
             bonus, points, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (program_id, member_id, network, channel) DO UPDATE SET \
             status = EXCLUDED.status, bonus = EXCLUDED.bonus, points = EXCLUDED.points, \
             checked_at = EXCLUDED.checked_at",
        )
        .bind(program.program_id.0)
        .bind(member.0)
        .bind(&status.network)
        .bind(status.channel.as_deref().unwrap_or(""))
        .bind(name(&status.status))
        .bind(name(&status.bonus))
        .bind(status.points)
        .bind(at)
        .execute(&state.pool)
        .await?;
    }
    Ok(())
}

fn name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
