//! `loyalty serve` as users run it: the real server on a port, with its workers. A webhook's
//! points must reach the balance read model without anyone draining projections by hand.

use crate::harness::{VK_CONFIRMATION, VK_GROUP, VK_SECRET, anna_vk, fixture};
use crate::helpers::TestLedger;
use app::config::ServeConfig;
use app::config::TelegramMode;
use app::ingest::channels;
use domain::network::Network;
use sqlx::PgPool;
use std::time::Duration;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn serve_runs_the_projections_so_points_become_visible(pool: PgPool) {
    let t = TestLedger::new(pool.clone()).await;
    channels::bind(
        &pool,
        &app::config::dev_secret_box(),
        Network::Vk,
        VK_GROUP,
        t.program_id(),
        Some(VK_SECRET),
        Some(VK_CONFIRMATION),
    )
    .await
    .unwrap();
    let mut config = ServeConfig::for_tests();
    config.telegram.mode = TelegramMode::Off;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(loyalty::server::serve(
        listener,
        pool.clone(),
        config,
        async {
            let _ = stopped.await;
        },
    ));

    let reply = reqwest::Client::new()
        .post(format!("{base}/webhooks/vk"))
        .body(fixture("vk/wall_reply_new.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.text().await.unwrap(), "ok");
    let member = t.owner_of(&anna_vk()).await.unwrap();

    // The runner wakes on the append; allow a generous bound for a loaded CI machine. The
    // member's row can show before the award does (registering and awarding are two commits).
    let mut visible = None;
    for _ in 0..500 {
        visible = projections::balances::balance(&pool, t.program_id().0, member.0)
            .await
            .unwrap()
            .map(|b| b.current);
        if visible == Some(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(visible, Some(10));

    // The sealer runs beside the projections: the whole log is sealed within seconds.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut sealed = 0;
    for _ in 0..500 {
        sealed = sqlx::query_scalar("SELECT coalesce(max(total), 0) FROM log_seal")
            .fetch_one(&pool)
            .await
            .unwrap();
        if sealed == events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sealed, events);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

// ---------- /readyz: this process can serve, answered quickly and cheaply ----------

/// The application over `pool`, which need not reach a database: nothing is read to build it.
fn state_with(pool: PgPool, configure: impl FnOnce(&mut ServeConfig)) -> api::AppState {
    let mut config = ServeConfig::for_tests();
    configure(&mut config);
    let ledger = app::Ledger::new(
        store::EventStore::new(pool.clone()),
        app::LedgerConfig::default(),
    );
    api::AppState::new(app::AppContext::new(ledger, pool, config).unwrap())
}

async fn readyz(state: &api::AppState) -> (axum::http::StatusCode, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::get("/readyz")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = api::router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Lag is shared by every process on the database: it is reported, never a reason to take this
/// process (and so every process at once) out of service.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn readyz_stays_ready_while_projections_lag_and_names_the_lag(pool: PgPool) {
    let t = TestLedger::new(pool.clone()).await;
    projections::Runner::new(pool.clone(), projections::Projection::Balances)
        .drain()
        .await
        .unwrap();
    t.ledger
        .create_program(
            domain::ids::ProgramId(uuid::Uuid::new_v4()),
            "Another brand",
            chrono_tz::UTC,
            domain::program::Rules::standard(),
            &crate::harness::mini_app::now_action(),
        )
        .await
        .unwrap();
    let state = state_with(pool, |config| config.http.ready_max_lag_events = 0);
    let (status, body) = readyz(&state).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    assert!(body.starts_with("ready; balances lags up to "), "{body}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn readyz_answers_503_within_a_second_when_the_database_is_down(pool: PgPool) {
    // A pool like serve's (a 10 s acquire timeout) on a port where nothing listens.
    let down = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(pool.connect_options().as_ref().clone().port(1));
    let state = state_with(down, |_| {});
    let started = std::time::Instant::now();
    let (status, body) = readyz(&state).await;
    assert_eq!(
        status,
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered after {:?}",
        started.elapsed()
    );
}

/// At most one database query a second, however often it is asked: a second answer within the
/// second comes without the database (closed here), the next check finds it gone.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn readyz_reuses_its_answer_for_a_second(pool: PgPool) {
    let state = state_with(pool.clone(), |_| {});
    assert_eq!(readyz(&state).await.0, axum::http::StatusCode::OK);
    pool.close().await;
    assert_eq!(readyz(&state).await.0, axum::http::StatusCode::OK);
    tokio::time::sleep(api::observability::READY_CACHE).await;
    let (status, body) = readyz(&state).await;
    assert_eq!(
        status,
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "{body}"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_stopped_worker_makes_the_process_unready(pool: PgPool) {
    let state = state_with(pool, |_| {});
    let worker = tokio::spawn(async {});
    let handle = worker.abort_handle();
    worker.await.unwrap();
    state.readiness.watch("projections", handle);
    let (status, body) = readyz(&state).await;
    assert_eq!(
        status,
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "{body}"
    );
    assert_eq!(body, "the projections worker has stopped");
}

// ---------- request ids: echoed when sane, generated otherwise ----------

/// The `x-request-id` the answer to `GET /healthz` carries, sending `given` if any.
async fn request_id_answered(state: &api::AppState, given: Option<&str>) -> String {
    use tower::ServiceExt;
    let mut request = axum::http::Request::get("/healthz");
    if let Some(id) = given {
        request = request.header("x-request-id", id);
    }
    let request = request.body(axum::body::Body::empty()).unwrap();
    let response = api::router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    response
        .headers()
        .get("x-request-id")
        .expect("every answer carries a request id")
        .to_str()
        .unwrap()
        .to_string()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn answers_echo_a_sane_request_id_and_generate_one_otherwise(pool: PgPool) {
    let state = state_with(pool, |config| config.telegram.mode = TelegramMode::Off);
    assert_eq!(
        request_id_answered(&state, Some("lb-7f3a.42")).await,
        "lb-7f3a.42"
    );
    for given in [None, Some("not a token\"}")] {
        let generated = request_id_answered(&state, given).await;
        assert!(
            uuid::Uuid::parse_str(&generated).is_ok(),
            "{given:?} → {generated}"
        );
    }
    let first = request_id_answered(&state, None).await;
    assert_ne!(first, request_id_answered(&state, None).await);
}
