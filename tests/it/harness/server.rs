//! The application on a real socket: `api::router` under `axum::serve` on 127.0.0.1:0, with the
//! projection workers running as in `loyalty serve`.

use api::{AppState, router};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// The whole application serving HTTP on a free loopback port, with projection workers, until
/// dropped.
pub struct TestServer {
    pub base_url: String,
    stop_http: Option<oneshot::Sender<()>>,
    stop_projections: watch::Sender<bool>,
}

impl TestServer {
    pub async fn start(state: AppState) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (stop_projections, shutdown) = watch::channel(false);
        let store = state.ledger().store().clone();
        projections::runner::spawn(&store, projections::RunnerConfig::default(), shutdown);
        let (stop_http, stopped) = oneshot::channel::<()>();
        let live = state.live.clone();
        let app = router(state);
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                    live.close();
                })
                .await
                .expect("test server");
        });
        TestServer {
            base_url: format!("http://{addr}"),
            stop_http: Some(stop_http),
            stop_projections,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Runners stop on `true`; a dropped sender alone would wake them forever.
        let _ = self.stop_projections.send(true);
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
    }
}
