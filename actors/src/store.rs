//! The durable operation store: every operation record (metadata, status, times, errors,
//! warnings, result summary, metrics, latest progress) in SQLite by default or Postgres when
//! configured, with the same schema and queries (sqlx's `Any` driver, versioned migrations).
//!
//! All database work runs on one thread of its own with its own runtime, fed through a
//! channel: the connections never cross runtimes, and callers on any actix arbiter only await
//! answers. The [`crate::ProgressTracker`] is the one writer.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Utc};
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::operation::{OperationId, OperationRecord, OperationStatus};
use crate::tracker::{ListFilter, OperationList};

/// The schema, in order; a new version is a new entry (never edit an applied one).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "operations",
        include_str!("../migrations/0001_operations.sql"),
    ),
    (
        2,
        "list indexes",
        include_str!("../migrations/0002_list_indexes.sql"),
    ),
];

/// The error recorded on operations a stopped backend left running.
pub const INTERRUPTED: &str = "interrupted: the backend stopped while it was running";

/// How often a backend writes its heartbeat.
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// A backend silent this long is taken for stopped (and its operations interrupted).
pub const HEARTBEAT_STALE: std::time::Duration = std::time::Duration::from_secs(30);

/// Who writes: this backend's name (configured, or host and data folder), host and process.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub host: String,
    pub pid: u32,
}

impl Identity {
    /// This process, under `name`.
    pub fn this_process(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            host: pid_space(),
            pid: std::process::id(),
        }
    }

    /// The owner written with each record: name and process.
    pub fn owner(&self) -> String {
        format!("{}#{}", self.name, self.pid)
    }
}

/// This machine's name (`/etc/hostname`), or "localhost".
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Where process ids mean the same thing: the host's name and this process's pid namespace
/// (containers sharing a host name see each other's pids only in the same namespace).
fn pid_space() -> String {
    let ns = std::fs::read_link("/proc/self/ns/pid")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "no-proc".into());
    format!("{} {ns}", hostname())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("operation store {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("operation store: {0}")]
    Query(String),
    #[error("operation store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Query(e.to_string())
    }
}

/// How long records are kept: finished ones beyond `count` (newest first) or last written
/// more than `days` ago are deleted; 0 means no limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    pub count: usize,
    pub days: u64,
}

enum Request {
    Upsert(
        Vec<OperationRecord>,
        oneshot::Sender<Result<(), StoreError>>,
    ),
    Get(
        OperationId,
        oneshot::Sender<Result<Option<StoredOperation>, StoreError>>,
    ),
    List(
        ListFilter,
        oneshot::Sender<Result<OperationList, StoreError>>,
    ),
    Interrupt(
        bool,
        oneshot::Sender<Result<Vec<OperationRecord>, StoreError>>,
    ),
    Heartbeat(oneshot::Sender<Result<(), StoreError>>),
    Prune(Retention, oneshot::Sender<Result<u64, StoreError>>),
    Count(oneshot::Sender<Result<u64, StoreError>>),
}

/// A stored record and the backend that ran it.
#[derive(Debug, Clone)]
pub struct StoredOperation {
    pub record: OperationRecord,
    pub owner: String,
}

/// What the store has written since it opened (for benchmarks and health).
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Write transactions (one per batch of records).
    pub transactions: AtomicU64,
    /// Records written (inserted or replaced).
    pub records: AtomicU64,
}

/// A handle on the store (cheap to clone); the store thread ends when every handle is gone.
#[derive(Clone)]
pub struct OperationStore {
    tx: mpsc::UnboundedSender<Request>,
    owner: String,
    url: String,
    stats: Arc<StoreStats>,
}

impl std::fmt::Debug for OperationStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationStore")
            .field("url", &self.url)
            .field("owner", &self.owner)
            .finish()
    }
}

/// `sqlite://...` or `postgres://...` (`postgresql://` too); anything else is refused.
fn engine(url: &str) -> Option<&'static str> {
    if url.starts_with("sqlite:") {
        Some("sqlite")
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some("postgres")
    } else {
        None
    }
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl OperationStore {
    /// Opens (creating it if needed) the store at `url`, applies the migrations, writes a
    /// first heartbeat and starts its thread. `me` names this backend in what it writes.
    pub fn open(url: &str, me: Identity) -> Result<Self, StoreError> {
        let owner = me.owner();
        let shown = redact(url);
        let fail = |reason: String| StoreError::Open {
            url: shown.clone(),
            reason,
        };
        let Some(kind) = engine(url) else {
            return Err(fail(
                "not a sqlite:// or postgres:// URL (KTRDR_DATABASE_URL)".into(),
            ));
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let stats = Arc::new(StoreStats::default());
        let counted = stats.clone();
        let url_owned = url.to_owned();
        thread::Builder::new()
            .name("operation-store".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let pool = match connect(&url_owned, kind).await {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    if let Err(e) = heartbeat(&pool, &me).await {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                    let _ = ready_tx.send(Ok(()));
                    serve(pool, me, counted, rx).await;
                });
            })
            .map_err(|e| fail(format!("cannot start its thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                tx,
                owner,
                url: shown,
                stats,
            }),
            Ok(Err(reason)) => Err(fail(reason)),
            Err(_) => Err(fail("its thread ended".into())),
        }
    }

    /// The store's URL, password hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Write transactions and records written so far.
    pub fn written(&self) -> (u64, u64) {
        (
            self.stats.transactions.load(Ordering::Relaxed),
            self.stats.records.load(Ordering::Relaxed),
        )
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Request,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Writes these records (insert or replace), in one transaction.
    pub async fn upsert(&self, records: Vec<OperationRecord>) -> Result<(), StoreError> {
        self.send_upsert(records).await
    }

    /// Sends the write now (the store takes requests in the order they are sent) and returns
    /// a future that resolves once it is written.
    pub fn send_upsert(
        &self,
        records: Vec<OperationRecord>,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + 'static {
        let (tx, rx) = oneshot::channel();
        let sent = self.tx.send(Request::Upsert(records, tx));
        async move {
            sent.map_err(|_| StoreError::Closed)?;
            rx.await.map_err(|_| StoreError::Closed)?
        }
    }

    pub async fn get(&self, id: OperationId) -> Result<Option<StoredOperation>, StoreError> {
        self.ask(|tx| Request::Get(id, tx)).await
    }

    /// A page of records, newest first, with the exact count of matches.
    pub async fn list(&self, filter: ListFilter) -> Result<OperationList, StoreError> {
        self.ask(|tx| Request::List(filter, tx)).await
    }

    /// Marks `failed` with [`INTERRUPTED`] the `pending`/`running` records of backends that
    /// stopped: a process gone from this host, any backend whose heartbeat is older than
    /// [`HEARTBEAT_STALE`], and (`at_start`) an earlier life under this very owner; returns
    /// them.
    pub async fn mark_interrupted(
        &self,
        at_start: bool,
    ) -> Result<Vec<OperationRecord>, StoreError> {
        self.ask(|tx| Request::Interrupt(at_start, tx)).await
    }

    /// Writes this backend's sign of life.
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        self.ask(Request::Heartbeat).await
    }

    /// Deletes finished records beyond the retention; returns how many.
    pub async fn prune(&self, retention: Retention) -> Result<u64, StoreError> {
        self.ask(|tx| Request::Prune(retention, tx)).await
    }

    /// How many records the store holds.
    pub async fn count(&self) -> Result<u64, StoreError> {
        self.ask(Request::Count).await
    }
}

async fn connect(url: &str, kind: &str) -> Result<AnyPool, String> {
    install_default_drivers();
    let url = if kind == "sqlite" && !url.contains("mode=") && !url.contains(":memory:") {
        // Create the file when it does not exist yet.
        format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
    } else {
        url.to_owned()
    };
    // `sqlite::memory:` is one database per connection: keep exactly one, forever.
    let memory = url.contains(":memory:");
    if kind == "sqlite" && !memory {
        // A new data folder: create it (and the file, below) rather than fail.
        let path = url
            .trim_start_matches("sqlite:")
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or_default();
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
        }
    }
    let pool = AnyPoolOptions::new()
        // SQLite: one writer anyway; a second connection lets a read run during a write.
        .max_connections(match (kind, memory) {
            ("sqlite", true) => 1,
            ("sqlite", false) => 2,
            _ => 4,
        })
        .min_connections(u32::from(memory))
        // A server that does not answer fails the start in seconds, not half a minute.
        .acquire_timeout(std::time::Duration::from_secs(10))
        .idle_timeout(if memory {
            None
        } else {
            Some(std::time::Duration::from_secs(600))
        })
        .max_lifetime(if memory {
            None
        } else {
            Some(std::time::Duration::from_secs(1800))
        })
        .connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    if kind == "sqlite" && !memory {
        // WAL: readers do not block the writer; NORMAL sync is durable at checkpoints and
        // safe against corruption (a power cut may lose the last commits, a crash of ktrdr
        // loses nothing).
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"] {
            sqlx::query(pragma)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let migrator = Migrator {
        migrations: Cow::Owned(
            MIGRATIONS
                .iter()
                .map(|(v, name, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    // Two backends starting at once on a brand-new SQLite file may both try to apply the
    // first migration (SQLite has no migration lock): the loser sees it applied on a retry.
    let mut attempt = 0;
    loop {
        match migrator.run(&pool).await {
            Ok(()) => break,
            Err(e) if attempt < 3 => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "operation store: migrations failed; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(format!("migrations failed: {e}")),
        }
    }
    Ok(pool)
}

async fn serve(
    pool: AnyPool,
    me: Identity,
    stats: Arc<StoreStats>,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let owner = me.owner();
    while let Some(req) = rx.recv().await {
        match req {
            Request::Upsert(records, tx) => {
                let done = upsert(&pool, &owner, &records).await;
                if done.is_ok() && !records.is_empty() {
                    stats.transactions.fetch_add(1, Ordering::Relaxed);
                    stats
                        .records
                        .fetch_add(records.len() as u64, Ordering::Relaxed);
                }
                let _ = tx.send(done);
            }
            Request::Get(id, tx) => {
                let _ = tx.send(get(&pool, &id).await);
            }
            Request::List(filter, tx) => {
                let _ = tx.send(list(&pool, &filter).await);
            }
            Request::Interrupt(at_start, tx) => {
                let _ = tx.send(interrupt(&pool, &me, at_start).await);
            }
            Request::Heartbeat(tx) => {
                let _ = tx.send(heartbeat(&pool, &me).await);
            }
            Request::Prune(r, tx) => {
                let _ = tx.send(prune(&pool, r).await);
            }
            Request::Count(tx) => {
                let n = sqlx::query("SELECT COUNT(*) FROM operations")
                    .fetch_one(&pool)
                    .await
                    .and_then(|row| row.try_get::<i64, _>(0));
                let _ = tx.send(n.map(|n| n as u64).map_err(Into::into));
            }
        }
    }
    pool.close().await;
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

async fn upsert(
    pool: &AnyPool,
    owner: &str,
    records: &[OperationRecord],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let now = ms(Utc::now());
    let mut tx = pool.begin().await?;
    for r in records {
        let json = serde_json::to_string(r).map_err(|e| StoreError::Query(e.to_string()))?;
        sqlx::query(
            "INSERT INTO operations \
             (operation_id, operation_type, status, created_at, updated_at, owner, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (operation_id) DO UPDATE SET status = excluded.status, \
             updated_at = excluded.updated_at, owner = excluded.owner, record = excluded.record",
        )
        .bind(r.operation_id.as_str().to_owned())
        .bind(r.operation_type.as_str().to_owned())
        .bind(r.status.as_str())
        .bind(ms(r.created_at))
        .bind(now)
        .bind(owner.to_owned())
        .bind(json)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn decode(json: &str) -> Result<OperationRecord, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Query(format!("unreadable record: {e}")))
}

async fn get(pool: &AnyPool, id: &OperationId) -> Result<Option<StoredOperation>, StoreError> {
    let row = sqlx::query("SELECT record, owner FROM operations WHERE operation_id = $1")
        .bind(id.as_str().to_owned())
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(StoredOperation {
            record: decode(&row.try_get::<String, _>(0)?)?,
            owner: row.try_get(1)?,
        })
    })
    .transpose()
}

/// `WHERE` clause and its arguments for a filter (numbered from `$1`).
fn filter_sql(f: &ListFilter) -> (String, Vec<String>, Vec<i64>) {
    let mut clauses = Vec::new();
    let mut texts = Vec::new();
    let mut times = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if let Some(s) = f.status {
        clauses.push(format!("status = {}", next()));
        texts.push(s.as_str().to_owned());
    }
    if let Some(t) = &f.operation_type {
        clauses.push(format!("operation_type = {}", next()));
        texts.push(t.as_str().to_owned());
    }
    if f.active_only {
        clauses.push("status IN ('pending', 'running')".to_owned());
    }
    // Times come after the texts, in this order, so the placeholders stay in order.
    if let Some(t) = f.created_after {
        clauses.push(format!("created_at >= {}", next()));
        times.push(ms(t));
    }
    if let Some(t) = f.created_before {
        clauses.push(format!("created_at < {}", next()));
        times.push(ms(t));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, texts, times)
}

async fn list(pool: &AnyPool, f: &ListFilter) -> Result<OperationList, StoreError> {
    let (where_sql, texts, times) = filter_sql(f);
    let n = texts.len() + times.len();
    let page_sql = format!(
        "SELECT record FROM operations{where_sql} ORDER BY created_at DESC, operation_id DESC \
         LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut page = sqlx::query(&page_sql);
    for t in &texts {
        page = page.bind(t.clone());
    }
    for t in &times {
        page = page.bind(*t);
    }
    let rows = page
        .bind(f.limit.min(i64::MAX as usize) as i64)
        .bind(f.offset.min(i64::MAX as usize) as i64)
        .fetch_all(pool)
        .await?;
    let mut operations = Vec::with_capacity(rows.len());
    for row in &rows {
        match decode(&row.try_get::<String, _>(0)?) {
            Ok(r) => operations.push(r),
            // One record a newer version wrote (say) must not hide the whole page.
            Err(e) => tracing::warn!(error = %e, "operation store: skipping an unreadable record"),
        }
    }
    let count_sql = format!("SELECT COUNT(*) FROM operations{where_sql}");
    let mut count = sqlx::query(&count_sql);
    for t in &texts {
        count = count.bind(t.clone());
    }
    for t in &times {
        count = count.bind(*t);
    }
    let total: i64 = count.fetch_one(pool).await?.try_get(0)?;
    let active: i64 =
        sqlx::query("SELECT COUNT(*) FROM operations WHERE status IN ('pending', 'running')")
            .fetch_one(pool)
            .await?
            .try_get(0)?;
    Ok(OperationList {
        operations,
        total_count: total as usize,
        active_count: active as usize,
    })
}

async fn heartbeat(pool: &AnyPool, me: &Identity) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO backends (owner, host, pid, heartbeat_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
    )
    .bind(me.owner())
    .bind(me.host.clone())
    .bind(i64::from(me.pid))
    .bind(ms(Utc::now()))
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether the backend `owner` (on `host` as process `pid`, last heard of at `heartbeat_at`)
/// has stopped, as `me` sees it. `at_start`: `me` has just started, so records under its own
/// owner are an earlier life's (a restarted container may get the same name and pid).
fn stopped(
    me: &Identity,
    at_start: bool,
    owner: &str,
    host: &str,
    pid: i64,
    heartbeat_at: i64,
) -> bool {
    if owner == me.owner() {
        return at_start;
    }
    let stale = ms(Utc::now()) - heartbeat_at > HEARTBEAT_STALE.as_millis() as i64;
    let gone_here = host == me.host && !std::path::Path::new(&format!("/proc/{pid}")).exists();
    stale || gone_here
}

async fn interrupt(
    pool: &AnyPool,
    me: &Identity,
    at_start: bool,
) -> Result<Vec<OperationRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT o.record, o.owner, b.host, b.pid, b.heartbeat_at, o.updated_at FROM operations o \
         LEFT JOIN backends b ON b.owner = o.owner WHERE o.status IN ('pending', 'running')",
    )
    .fetch_all(pool)
    .await?;
    let now = Utc::now();
    let mut out = Vec::new();
    for row in rows {
        let owner: String = row.try_get(1)?;
        let host: Option<String> = row.try_get(2)?;
        let pid: Option<i64> = row.try_get(3)?;
        let beat: Option<i64> = row.try_get(4)?;
        let updated: i64 = row.try_get(5)?;
        // No heartbeat row: judged by the record's last write.
        let gone = stopped(
            me,
            at_start,
            &owner,
            host.as_deref().unwrap_or_default(),
            pid.unwrap_or(-1),
            beat.unwrap_or(updated),
        );
        if !gone {
            continue;
        }
        let mut r = match decode(&row.try_get::<String, _>(0)?) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "operation store: skipping an unreadable record");
                continue;
            }
        };
        r.status = OperationStatus::Failed;
        r.completed_at = Some(now);
        r.error_message = Some(INTERRUPTED.to_owned());
        r.errors.push(INTERRUPTED.to_owned());
        out.push(r);
    }
    // Only if still pending or running: the owner may have finished it meanwhile.
    let mut marked = Vec::new();
    for r in out {
        let json = serde_json::to_string(&r).map_err(|e| StoreError::Query(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE operations SET status = 'failed', updated_at = $1, record = $2 \
             WHERE operation_id = $3 AND status IN ('pending', 'running')",
        )
        .bind(ms(Utc::now()))
        .bind(json)
        .bind(r.operation_id.as_str().to_owned())
        .execute(pool)
        .await?;
        if done.rows_affected() > 0 {
            marked.push(r);
        }
    }
    Ok(marked)
}

async fn prune(pool: &AnyPool, r: Retention) -> Result<u64, StoreError> {
    const FINISHED: &str = "status IN ('completed', 'failed', 'cancelled')";
    let mut deleted = 0;
    if r.days > 0 {
        let cut = ms(Utc::now()) - (r.days as i64) * 86_400_000;
        deleted += sqlx::query(&format!(
            "DELETE FROM operations WHERE {FINISHED} AND updated_at < $1"
        ))
        .bind(cut)
        .execute(pool)
        .await?
        .rows_affected();
    }
    if r.count > 0 {
        // The creation time of the oldest finished record kept: older ones go (records of
        // that very millisecond stay: a few more kept, never fewer).
        let edge = sqlx::query(&format!(
            "SELECT created_at FROM operations WHERE {FINISHED} \
             ORDER BY created_at DESC LIMIT 1 OFFSET $1"
        ))
        .bind(r.count as i64 - 1)
        .fetch_optional(pool)
        .await?;
        if let Some(row) = edge {
            let cut: i64 = row.try_get(0)?;
            deleted += sqlx::query(&format!(
                "DELETE FROM operations WHERE {FINISHED} AND created_at < $1"
            ))
            .bind(cut)
            .execute(pool)
            .await?
            .rows_affected();
        }
    }
    Ok(deleted)
}
