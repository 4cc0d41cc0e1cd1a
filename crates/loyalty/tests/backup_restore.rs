//! The restore drill of docs/deploy.md, run as an operator runs it. A program's log is written
//! on one PostgreSQL server, anchored, dumped with `pg_dump` and restored with `pg_restore` into
//! a new database on another server; `loyalty audit verify --anchor` proves the copy holds
//! exactly the anchored history, and the restored program carries on: new deliveries are paid,
//! projected and proved.
//!
//! The source server is a private cluster whose transaction ids start in epoch 1 (`pg_resetwal
//! -e 1`), standing for a server that has run for years: the restored log's transaction ids are
//! far ahead of the target server's, as after a real move to a new server.

mod support;

use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{
    assert_success, database_url, run_loyalty, start_serve, vk_comment, wait_for_projections,
};

const VK_SECRET: &str = "RestoreDrillSecret1";
const POINTS: i64 = 10;

/// A PostgreSQL cluster of its own in a temporary directory, on a free port, stopped and
/// removed when dropped. As root the cluster belongs to `postgres` (PostgreSQL refuses root).
struct Cluster {
    data: PathBuf,
    bin: PathBuf,
    port: u16,
}

fn pg_command(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Cluster {
    /// initdb, next transaction id in `epoch`, start.
    fn start(epoch: u32) -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql");
        let data = std::env::temp_dir().join(format!("loyalty-restore-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data).unwrap();
        run(Command::new("chmod").arg("0777").arg(&data));
        let _ = Command::new("chown").arg("postgres:").arg(&data).status();
        run(pg_command(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data));
        run(pg_command(&bin.join("pg_resetwal"))
            .args(["-e", &epoch.to_string(), "-D"])
            .arg(&data));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            data.display()
        );
        run(pg_command(&bin.join("pg_ctl"))
            .args(["-w", "-l"])
            .arg(data.join("server.log"))
            .args(["-o", &options, "-D"])
            .arg(&data)
            .arg("start"));
        Cluster { data, bin, port }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin.join("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Delivers comments `range`, each by its own VK user, to `server`; every one answered `ok`.
async fn comments(server: &support::Server, range: std::ops::Range<i64>) {
    let client = reqwest::Client::new();
    for n in range {
        let reply = client
            .post(format!("{}/webhooks/vk", server.base))
            .body(vk_comment(VK_SECRET, n, 716_500_000 + n))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success());
        assert_eq!(reply.text().await.unwrap(), "ok");
    }
}

#[sqlx::test(migrations = false)]
async fn a_dump_restored_on_another_server_proves_its_anchor_and_carries_on(target: PgPool) {
    // The source: a program with a VK group, 60 comments by 60 members, one member erased.
    let source = Cluster::start(1);
    let source_url = source.url("loyalty");
    assert_success("migrate", &run_loyalty(&source_url, &["migrate"]).await);
    let source_pool = PgPool::connect(&source_url).await.unwrap();
    support::demo_program(&source_pool, VK_SECRET).await;
    let server = start_serve(&source_url).await;
    comments(&server, 0..60).await;
    wait_for_projections(&source_pool).await;
    drop(server);
    let erased: uuid::Uuid =
        sqlx::query_scalar("SELECT member_id FROM balances ORDER BY member_id LIMIT 1")
            .fetch_one(&source_pool)
            .await
            .unwrap();
    assert_success(
        "members erase",
        &run_loyalty(
            &source_url,
            &[
                "members",
                "erase",
                "--member",
                &erased.to_string(),
                "--reason",
                "manager-request",
            ],
        )
        .await,
    );
    let events = scalar(&source_pool, "SELECT count(*) FROM events").await;
    let paid = "SELECT coalesce(sum(current), 0)::bigint FROM balances";
    let paid_before = scalar(&source_pool, paid).await;
    assert_eq!(
        paid_before,
        60 * POINTS,
        "the erased member keeps their points"
    );
    assert!(
        scalar(&source_pool, "SELECT min(tx_id) FROM events").await >= 1 << 32,
        "the source's transaction ids are in epoch 1"
    );
    let anchor = run_loyalty(&source_url, &["audit", "anchor"]).await;
    assert_success("audit anchor", &anchor);
    // What the operator keeps outside both servers: the anchor and the dump.
    let kept = std::env::temp_dir().join(format!("loyalty-kept-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&kept).unwrap();
    let anchor_file = kept.join("anchor.json");
    std::fs::write(&anchor_file, &anchor.stdout).unwrap();

    // Dump, and restore into a new, empty database on the other server.
    let dump = kept.join("loyalty.dump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&source_url));
    source_pool.close().await;
    drop(source);
    let target_url = database_url(&target);
    // Roles belong to the server, not to the dump: the new server needs the service role the
    // dump grants to (docs/deploy.md says so; other tests may create it at the same moment).
    sqlx::query(
        "DO $$ BEGIN CREATE ROLE loyalty_service NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .execute(&target)
    .await
    .unwrap();
    run(Command::new("pg_restore")
        .args(["--exit-on-error", "--no-owner", "--dbname", &target_url])
        .arg(&dump));
    assert_eq!(scalar(&target, "SELECT count(*) FROM events").await, events);

    // The copy proves out against the anchor taken before the dump.
    let anchored = ["audit", "verify", "--anchor", anchor_file.to_str().unwrap()];
    assert_success(
        "audit verify --anchor",
        &run_loyalty(&target_url, &anchored).await,
    );
    let restored_head = scalar(&target, "SELECT max(tx_id) FROM events").await;

    // The restored program carries on: new members' comments are paid, projected, proved.
    let server = start_serve(&target_url).await;
    comments(&server, 60..90).await;
    wait_for_projections(&target).await;
    drop(server);
    let newer = format!("SELECT count(*) FROM events WHERE tx_id > {restored_head}");
    assert!(
        scalar(&target, &newer).await >= 30,
        "events appended after the restore follow the restored ones in the log's order"
    );
    assert_eq!(
        scalar(&target, paid).await,
        paid_before + 30 * POINTS,
        "each new comment is paid once and projected"
    );
    assert_success(
        "audit verify --anchor after new activity",
        &run_loyalty(&target_url, &anchored).await,
    );
    std::fs::remove_dir_all(&kept).unwrap();
}
