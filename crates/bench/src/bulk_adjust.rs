//! Bulk adjustments: a manager's CSV of 250,000 rows through a real `loyalty serve` over HTTP,
//! as the panel sends it: the dry run, then applying it, timed from the upload to the moment
//! the server reports every row applied. Then every row's event is counted in the log.

use super::{ServeChild, fresh_database, round2};
use anyhow::Context;
use app::ledger::{Decided, Loaded};
use app::{Ledger, LedgerConfig, ManagerAction};
use chrono::Utc;
use domain::ids::{MemberId, ProgramId};
use domain::member::{MemberCommand, MemberState};
use domain::program::Rules;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use store::{EventStore, Metadata};
use uuid::Uuid;

const ADMIN: &str = "bench";
const PASSWORD: &str = "bench-password-long-enough";

#[derive(Debug, clap::Args)]
pub struct Params {
    /// Rows in the file.
    #[arg(long, default_value_t = 250_000)]
    pub rows: usize,
    /// Members the rows are spread over (each row a different member when equal to rows).
    #[arg(long, default_value_t = 250_000)]
    pub members: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The database the bench creates afresh.
    #[arg(long, default_value = "loyalty_bench_bulk")]
    pub database: String,
}

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<Value> {
    anyhow::ensure!(
        p.rows > 0 && p.members > 0,
        "--rows and --members must be positive"
    );
    let pool = fresh_database(database_url, &p.database).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let program = ProgramId(Uuid::from_u128(rng.r#gen()));
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let action = ManagerAction {
        manager: "bench".into(),
        request_id: Uuid::from_u128(rng.r#gen()),
        at: Utc::now().into(),
    };
    ledger
        .create_program(program, "Bench", chrono_tz::UTC, Rules::standard(), &action)
        .await?;
    let seeding = Instant::now();
    let members = register(&ledger, program, p.members, &mut rng).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    api::admin::create_user(&pool, "bench", ADMIN, PASSWORD, api::admin::Role::Manager)
        .await
        .map_err(|e| anyhow::anyhow!("create the bench's manager: {e}"))?;

    let mut file = String::from("member,points,reason,note\n");
    let mut expected_points = 0i64;
    for row in 0..p.rows {
        let member = members[row % members.len()];
        let points = rng.gen_range(1..=500);
        expected_points += points;
        file.push_str(&format!(
            "{},{points},Spring contest prize,Thank you!\n",
            member.0
        ));
    }

    let (_server, base) = ServeChild::start(database_url, &p.database, &[]).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let cookie = crate::sign_in(&client, &base, ADMIN, PASSWORD).await?;
    let csrf = csrf_of(&client, &base, &cookie).await?;
    let bulk = format!(
        "{base}/api/v1/admin/programs/{}/bulk-adjustments",
        program.0
    );
    let post = |url: String, key: Option<&str>| {
        let mut request = client
            .post(url)
            .header(reqwest::header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf)
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(file.clone());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request
    };

    let checking = Instant::now();
    let dry_run: Value = post(format!("{bulk}/check"), None)
        .send()
        .await?
        .error_for_status()
        .context("the dry run was refused")?
        .json()
        .await?;
    let check_secs = checking.elapsed().as_secs_f64();
    anyhow::ensure!(
        dry_run["bad_count"] == 0,
        "the dry run found bad rows: {dry_run}"
    );

    let applying = Instant::now();
    let started: Value = post(format!("{bulk}?file_name=bench.csv"), Some("bench-apply"))
        .send()
        .await?
        .error_for_status()
        .context("applying was refused")?
        .json()
        .await?;
    let accepted_secs = applying.elapsed().as_secs_f64();
    let id = started["id"].as_str().context("no id")?.to_string();
    let finished = loop {
        let record: Value = client
            .get(format!("{bulk}/{id}"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if record["status"] == "applied" {
            break record;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let apply_secs = applying.elapsed().as_secs_f64();

    let (events, points): (i64, Option<i64>) = sqlx::query_as(
        "SELECT count(*), sum((payload->>'delta')::bigint)::bigint FROM events \
         WHERE event_type = 'PointsAdjusted' AND program_id = $1",
    )
    .bind(program.0)
    .fetch_one(&pool)
    .await?;
    Ok(json!({
        "workload": "bulk-adjust",
        "rows": p.rows,
        "members": p.members,
        "seed_secs": round2(seed_secs),
        "file_bytes": file.len(),
        "dry_run_secs": round2(check_secs),
        "upload_to_accepted_secs": round2(accepted_secs),
        "upload_to_applied_secs": round2(apply_secs),
        "rows_per_s": round2(p.rows as f64 / apply_secs),
        "applied": finished["applied"],
        "refused": finished["refused"].as_array().map_or(0, Vec::len),
        "events_in_log": events,
        "points_in_log": points.unwrap_or_default(),
        "points_expected": expected_points,
    }))
}

/// Registers `n` members through the ledger, a thousand commits a round trip.
async fn register(
    ledger: &Ledger,
    program: ProgramId,
    n: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<MemberId>> {
    let members: Vec<MemberId> = (0..n)
        .map(|_| MemberId(Uuid::from_u128(rng.r#gen())))
        .collect();
    let metadata = Metadata::default();
    for slice in members.chunks(1_000) {
        let loaded: Vec<Loaded<MemberState>> = slice
            .iter()
            .map(|m| Loaded {
                stream: domain::StreamId::Member(*m).to_string(),
                version: 0,
                state: MemberState::default(),
            })
            .collect();
        let decided: Vec<(Uuid, Vec<domain::event::Event>)> = slice
            .iter()
            .map(|m| {
                let command = MemberCommand::Register {
                    member_id: *m,
                    program_id: program,
                    at: Utc::now().into(),
                };
                Ok((m.0, MemberState::default().decide(command)?))
            })
            .collect::<Result<_, domain::DomainError>>()?;
        let batch: Vec<(Decided<'_>, &Loaded<MemberState>)> = decided
            .iter()
            .zip(&loaded)
            .map(|((id, events), loaded)| {
                let decided = Decided {
                    command_id: *id,
                    metadata: &metadata,
                    events,
                };
                (decided, loaded)
            })
            .collect();
        for outcome in ledger.append_each(program.0, &batch).await {
            outcome?;
        }
    }
    Ok(members)
}

async fn csrf_of(client: &reqwest::Client, base: &str, cookie: &str) -> anyhow::Result<String> {
    let session: Value = client
        .get(format!("{base}/api/v1/admin/session"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    session["csrf_token"]
        .as_str()
        .map(str::to_string)
        .context("no csrf_token in the session")
}
