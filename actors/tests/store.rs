//! The operation store against the real engines: SQLite (a file in a temp folder) and
//! PostgreSQL (a throwaway cluster, `pg/`). The PostgreSQL tests are ignored by default;
//! `scripts/test` runs them with `--ignored` wherever PostgreSQL is installed.

mod pg;

use chrono::{Duration, TimeZone, Utc};
use ktrdr_actors::store::{Identity, OperationStore, Retention, INTERRUPTED};
use ktrdr_actors::tracker::ListFilter;
use ktrdr_actors::{OperationRecord, OperationStatus, OperationType};
use serde_json::json;
use sqlx::any::install_default_drivers;

/// A store under test and what keeps it alive.
struct Engine {
    url: String,
    _keep: Box<dyn std::any::Any>,
}

fn sqlite() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    Engine {
        url: format!("sqlite://{}", dir.path().join("ops.db").display()),
        _keep: Box::new(dir),
    }
}

fn postgres() -> Engine {
    let cluster = pg::PgCluster::start();
    Engine {
        url: cluster.new_database("ktrdr_test"),
        _keep: Box::new(cluster),
    }
}

fn me(name: &str) -> Identity {
    Identity::this_process(name)
}

fn record(kind: &str, status: OperationStatus, minute: i64) -> OperationRecord {
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minute);
    let mut r = OperationRecord::new(OperationType::new(kind).unwrap(), json!({"n": minute}), t);
    r.status = status;
    r
}

/// Runs `body` on a fresh actix system (the store's callers live on arbiters).
fn on_actix<F: std::future::Future<Output = ()>>(body: F) {
    actix_rt::System::new().block_on(body);
}

async fn writes_reads_filters_and_pages(e: Engine) {
    let store = OperationStore::open(&e.url, me("a")).unwrap();
    let mut all = Vec::new();
    for m in 0..30 {
        let (kind, status) = match m % 3 {
            0 => ("data_load", OperationStatus::Completed),
            1 => ("training", OperationStatus::Failed),
            _ => ("data_load", OperationStatus::Running),
        };
        all.push(record(kind, status, m));
    }
    store.upsert(all.clone()).await.unwrap();
    // A second write of one record replaces it (the latest progress, metrics...).
    let mut changed = all[4].clone();
    changed.metrics = Some(json!({"epochs": [1, 2, 3]}));
    changed.warnings.push("w".into());
    store.upsert(vec![changed.clone()]).await.unwrap();
    let got = store
        .get(changed.operation_id.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.record, changed);
    assert_eq!(got.owner, me("a").owner());
    assert_eq!(store.count().await.unwrap(), 30);

    let page = |f: ListFilter| {
        let store = store.clone();
        async move { store.list(f).await.unwrap() }
    };
    let everything = page(ListFilter {
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(everything.total_count, 30);
    assert_eq!(everything.active_count, 10);
    let minutes: Vec<i64> = everything
        .operations
        .iter()
        .map(|r| r.metadata["n"].as_i64().unwrap())
        .collect();
    assert_eq!(minutes, (0..30).rev().collect::<Vec<_>>(), "newest first");

    let loads = page(ListFilter {
        operation_type: Some(OperationType::new("data_load").unwrap()),
        limit: 5,
        offset: 5,
        ..Default::default()
    })
    .await;
    assert_eq!(loads.total_count, 20);
    let minutes: Vec<i64> = loads
        .operations
        .iter()
        .map(|r| r.metadata["n"].as_i64().unwrap())
        .collect();
    assert_eq!(minutes, vec![21, 20, 18, 17, 15]);

    let failed = page(ListFilter {
        status: Some(OperationStatus::Failed),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(failed.total_count, 10);
    assert!(failed
        .operations
        .iter()
        .all(|r| r.status == OperationStatus::Failed));
    let active = page(ListFilter {
        active_only: true,
        limit: 3,
        ..Default::default()
    })
    .await;
    assert_eq!((active.total_count, active.operations.len()), (10, 3));
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let window = page(ListFilter {
        status: Some(OperationStatus::Completed),
        created_after: Some(t0 + Duration::minutes(10)),
        created_before: Some(t0 + Duration::minutes(20)),
        limit: 100,
        ..Default::default()
    })
    .await;
    let minutes: Vec<i64> = window
        .operations
        .iter()
        .map(|r| r.metadata["n"].as_i64().unwrap())
        .collect();
    assert_eq!((window.total_count, minutes), (3, vec![18, 15, 12]));
    assert!(store
        .get(ktrdr_actors::OperationId::generate(
            &OperationType::new("x").unwrap(),
            t0
        ))
        .await
        .unwrap()
        .is_none());
}

/// Sets a backend's heartbeat to long ago, as if it had stopped on another machine.
async fn age_heartbeat(url: &str, owner: &str) {
    install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query("UPDATE backends SET heartbeat_at = 0 WHERE owner = $1")
        .bind(owner.to_owned())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn interrupted_only_where_the_backend_stopped(e: Engine) {
    let running = |m| record("data_load", OperationStatus::Running, m);
    // Backends writing to the store: another one alive on this host (this test's own
    // process under another name), one on another host that went silent, and a process of
    // this host that is gone.
    let alive = OperationStore::open(&e.url, me("alive")).unwrap();
    let silent = OperationStore::open(
        &e.url,
        Identity {
            name: "silent".into(),
            host: "elsewhere".into(),
            pid: 7,
        },
    )
    .unwrap();
    let gone = OperationStore::open(
        &e.url,
        Identity {
            name: "gone".into(),
            host: me("gone").host,
            pid: 4_000_000,
        },
    )
    .unwrap();
    let (a, s, g) = (running(1), running(2), running(3));
    alive.upsert(vec![a.clone()]).await.unwrap();
    silent.upsert(vec![s.clone()]).await.unwrap();
    gone.upsert(vec![g.clone()]).await.unwrap();
    let done = record("training", OperationStatus::Completed, 4);
    silent.upsert(vec![done.clone()]).await.unwrap();
    age_heartbeat(&e.url, &silent.owner().to_owned()).await;

    // This backend, as it starts: its own earlier life's running operation is interrupted too.
    let mine = OperationStore::open(&e.url, me("mine")).unwrap();
    let m = running(5);
    mine.upsert(vec![m.clone()]).await.unwrap();
    let later = mine.mark_interrupted(false).await.unwrap();
    let mut ids: Vec<_> = later.iter().map(|r| r.operation_id.clone()).collect();
    ids.sort();
    let mut want = vec![s.operation_id.clone(), g.operation_id.clone()];
    want.sort();
    assert_eq!(
        ids, want,
        "a silent backend and a gone process, not the live ones"
    );
    let at_start = mine.mark_interrupted(true).await.unwrap();
    assert_eq!(
        at_start.iter().map(|r| &r.operation_id).collect::<Vec<_>>(),
        vec![&m.operation_id],
        "at start, its own earlier life"
    );
    for id in [&s.operation_id, &g.operation_id, &m.operation_id] {
        let r = mine.get(id.clone()).await.unwrap().unwrap().record;
        assert_eq!(r.status, OperationStatus::Failed);
        assert_eq!(r.error_message.as_deref(), Some(INTERRUPTED));
        assert!(r.completed_at.is_some());
    }
    let r = mine
        .get(a.operation_id.clone())
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(
        r.status,
        OperationStatus::Running,
        "a live backend's run is left alone"
    );
    let r = mine
        .get(done.operation_id.clone())
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(r.status, OperationStatus::Completed);
}

async fn prunes_by_count_and_age(e: Engine) {
    let store = OperationStore::open(&e.url, me("p")).unwrap();
    let now = Utc::now();
    let mut rs = Vec::new();
    for d in 0..10 {
        let mut r = record("dummy", OperationStatus::Completed, 0);
        r.created_at = now - Duration::days(d * 10);
        rs.push(r);
    }
    let mut old_running = record("dummy", OperationStatus::Running, 0);
    old_running.created_at = now - Duration::days(400);
    rs.push(old_running.clone());
    store.upsert(rs).await.unwrap();
    // As if each had been last written when it was created...
    install_default_drivers();
    let pool = sqlx::AnyPool::connect(&e.url).await.unwrap();
    sqlx::query("UPDATE operations SET updated_at = created_at")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // ... but one, started 100 days ago, that has just finished: the age counts from its end.
    let mut long_run = record("training", OperationStatus::Completed, 0);
    long_run.created_at = now - Duration::days(100);
    store.upsert(vec![long_run.clone()]).await.unwrap();

    // Last written more than 45 days ago: 5 finished ones go (50..90 days); the running one
    // and the long run stay.
    let n = store.prune(Retention { count: 0, days: 45 }).await.unwrap();
    assert_eq!(n, 5);
    assert!(store
        .get(long_run.operation_id.clone())
        .await
        .unwrap()
        .is_some());
    // Beyond the 3 newest finished (by creation): 30 and 40 days, and the long run.
    let n = store.prune(Retention { count: 3, days: 0 }).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(store.count().await.unwrap(), 4);
    assert!(store
        .get(old_running.operation_id.clone())
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store.prune(Retention::default()).await.unwrap(),
        0,
        "0 = no limit"
    );
}

#[test]
fn sqlite_writes_reads_filters_and_pages() {
    on_actix(writes_reads_filters_and_pages(sqlite()));
}

#[test]
fn sqlite_interrupted_only_where_the_backend_stopped() {
    on_actix(interrupted_only_where_the_backend_stopped(sqlite()));
}

#[test]
fn sqlite_prunes_by_count_and_age() {
    on_actix(prunes_by_count_and_age(sqlite()));
}

#[test]
#[ignore = "needs PostgreSQL (initdb); scripts/test runs it with --ignored where it is installed"]
fn postgres_writes_reads_filters_and_pages() {
    on_actix(writes_reads_filters_and_pages(postgres()));
}

#[test]
#[ignore = "needs PostgreSQL (initdb); scripts/test runs it with --ignored where it is installed"]
fn postgres_interrupted_only_where_the_backend_stopped() {
    on_actix(interrupted_only_where_the_backend_stopped(postgres()));
}

#[test]
#[ignore = "needs PostgreSQL (initdb); scripts/test runs it with --ignored where it is installed"]
fn postgres_prunes_by_count_and_age() {
    on_actix(prunes_by_count_and_age(postgres()));
}

#[test]
fn a_bad_url_is_refused_with_its_reason_and_no_password() {
    let e = OperationStore::open("mysql://u:secret@h/db", me("x")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("not a sqlite:// or postgres:// URL"), "{msg}");
    assert!(!msg.contains("secret"), "{msg}");
    let e = OperationStore::open("postgres://u:secret@127.0.0.1:1/db", me("x")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("u:***@127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("secret"), "{msg}");
}

/// Several backends opening one brand-new SQLite file at the same moment all start (SQLite
/// takes no migration lock: the losers of the race retry and find the schema applied).
#[test]
fn sqlite_new_file_opened_by_several_backends_at_once() {
    let e = sqlite();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (url, barrier) = (e.url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                OperationStore::open(&url, me(&format!("b{i}"))).map(|s| s.owner().to_owned())
            })
        })
        .collect();
    let opened: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for o in &opened {
        assert!(o.is_ok(), "{opened:?}");
    }
}
