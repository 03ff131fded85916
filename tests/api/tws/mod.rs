//! A STAND-IN for IB Gateway / TWS, for tests only: the real gateway cannot run here (it needs
//! an IB login), so this one speaks its API over TCP on loopback, serves bars from CSV files,
//! referees IB's historical-data pacing and misbehaves on demand. It is the only stand-in in
//! these tests; everything on the other side of the socket (`ibapi`, the provider, the IB
//! host, the backend) is the real code.
//!
//! The wire, as IB's API for the server version it announces ([`SERVER_VERSION`], 226): the
//! client sends `API\0` and a length-prefixed `v{min}..{max}`; the gateway answers a
//! length-prefixed `{version}\0{time} UTC\0`; then every frame is a 4-byte big-endian length,
//! a 4-byte big-endian message id (plus 200 for a protobuf body, the only encoding `ibapi`
//! 5.5 accepts) and the protobuf body. After `startApi` the gateway sends `nextValidId`,
//! `managedAccounts` and the farm notices 2104/2106/2158 a real gateway sends at connect.
//! Requests served: historical data (20; bars then `historicalDataEnd`), head timestamp (87),
//! contract details (9; rows then `contractDataEnd`) and cancel historical data (25).
//!
//! The referee records every historical request with its time of arrival and answers error
//! 162 with IB's pacing text whenever IB would: a 61st request within 10 minutes, a request
//! identical to one within 15 s, or a 6th request for one contract (symbol, type, exchange,
//! what to show) within 2 s; the windows are multiplied by the gateway's `pacing_scale`, as
//! the provider's are by its configuration, so tests run in seconds.

pub mod proto;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use proto::{Enc, Msg};

/// The server version the stand-in announces: the newest `ibapi` 5.5 asks for.
pub const SERVER_VERSION: i32 = 226;
/// Protobuf message ids travel with this added.
const PROTOBUF: u32 = 200;

// Incoming (gateway -> client) message ids.
const ERR_MSG: u32 = 4;
const NEXT_VALID_ID: u32 = 9;
const CONTRACT_DATA: u32 = 10;
const MANAGED_ACCOUNTS: u32 = 15;
const HISTORICAL_DATA: u32 = 17;
const CONTRACT_DATA_END: u32 = 52;
const HEAD_TIMESTAMP: u32 = 88;
const HISTORICAL_DATA_END: u32 = 108;
// Outgoing (client -> gateway) message ids.
const REQ_CONTRACT_DATA: u32 = 9;
const REQ_HISTORICAL_DATA: u32 = 20;
const CANCEL_HISTORICAL_DATA: u32 = 25;
const START_API: u32 = 71;
const REQ_HEAD_TIMESTAMP: u32 = 87;

/// IB's texts, as a real gateway sends them.
pub const PACING_TEXT: &str =
    "Historical Market Data Service error message:Historical data request pacing violation";
const NO_DATA_TEXT: &str =
    "Historical Market Data Service error message:HMDS query returned no data";
const NO_SECDEF_TEXT: &str = "No security definition has been found for the request";
const NOT_SUBSCRIBED_TEXT: &str = "Requested market data is not subscribed. Check API status by selecting the Account menu then under Management choose Market Data Subscription Manager and/or Market Data Subscriptions. Historical Market Data Service error message:No market data permissions";
const FARM_NOTICES: [(i64, &str); 3] = [
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
];

/// A scripted misbehaviour, applied to the next historical request (in order).
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub enum Fault {
    /// Error 162 "HMDS query returned no data".
    NoData,
    /// Error 200, no security definition.
    NoSecurityDefinition,
    /// Error 354, not subscribed.
    NotSubscribed,
    /// The informational notices 2104/2106/2158, addressed to the request, before the answer.
    Notices,
    /// The answer after this long.
    Delay(Duration),
    /// The answer written a few bytes at a time, so it arrives over many reads.
    Split,
    /// Half the answer, then the connection closes.
    DropMidAnswer,
    /// No answer until the client cancels (or [`StandInGateway::release_held`]).
    Hold,
}

/// One historical request as the gateway received it.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Seen {
    pub at: Instant,
    pub connection: u64,
    pub req_id: i64,
    pub symbol: String,
    pub sec_type: String,
    pub exchange: String,
    pub currency: String,
    pub end: String,
    pub duration: String,
    pub bar_size: String,
    pub what_to_show: String,
    pub use_rth: bool,
    pub format_date: i64,
    pub keep_up_to_date: bool,
    /// The referee's verdict: why this request broke IB's pacing.
    pub violation: Option<String>,
    /// Bars sent in the answer (0 for an error or a held request).
    pub bars: usize,
}

/// Everything the gateway saw and what it is told to do.
#[derive(Debug, Default)]
pub struct State {
    pub historical: Vec<Seen>,
    /// Request ids of `cancelHistoricalData` messages, in arrival order.
    pub cancels: Vec<i64>,
    /// Other requests: (message name, symbol).
    pub other: Vec<(String, String)>,
    /// TCP connections accepted / handshakes answered / `startApi` received.
    pub connections: u64,
    pub handshakes: u64,
    pub sessions: u64,
    /// Client ids with a live session (a second session with one gets 326, as IB does).
    live_clients: HashSet<i64>,
    /// Request ids held without an answer.
    pub held: HashSet<i64>,
    script: VecDeque<Fault>,
    refuse: u32,
    silent: bool,
    /// Errors the gateway itself ran into (bad frames): a test fails on any.
    pub protocol_errors: Vec<String>,
}

impl State {
    pub fn violations(&self) -> Vec<String> {
        self.historical
            .iter()
            .filter_map(|s| s.violation.clone())
            .collect()
    }
}

struct Shared {
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    released: Condvar,
    stop: AtomicBool,
    csv_dir: PathBuf,
    window: Duration,
    identical: Duration,
    contract: Duration,
    live: Mutex<Vec<(u64, TcpStream)>>,
    /// Parsed CSV files, by path (a file is read once).
    csv: Mutex<HashMap<PathBuf, Arc<Vec<CsvBar>>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bars of a CSV file, parsed once.
    fn bars(&self, path: &Path) -> Option<Arc<Vec<CsvBar>>> {
        if let Some(b) = self.csv.lock().unwrap().get(path) {
            return Some(b.clone());
        }
        let bars = Arc::new(read_csv(path)?);
        self.csv
            .lock()
            .unwrap()
            .insert(path.to_owned(), bars.clone());
        Some(bars)
    }

    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.lock());
        self.changed.notify_waiters();
        self.released.notify_all();
        out
    }
}

/// The stand-in gateway; stops (closing every connection) when dropped.
pub struct StandInGateway {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl StandInGateway {
    /// Listens on a port of 127.0.0.1 chosen by the system; serves `{SYMBOL}_{tf}.csv` files
    /// of `csv_dir` (`EURUSD_1h.csv` for the EUR.USD pair); IB's pacing windows times
    /// `pacing_scale`.
    pub fn start(csv_dir: &Path, pacing_scale: f64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stand-in gateway");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: tokio::sync::Notify::new(),
            released: Condvar::new(),
            stop: AtomicBool::new(false),
            csv_dir: csv_dir.to_owned(),
            window: Duration::from_secs_f64(600.0 * pacing_scale),
            identical: Duration::from_secs_f64(15.0 * pacing_scale),
            contract: Duration::from_secs_f64(2.0 * pacing_scale),
            live: Mutex::new(Vec::new()),
            csv: Mutex::new(HashMap::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || connection(s, stream, n as u64 + 1));
            }
        });
        StandInGateway { addr, shared }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Applies `fault` to the next historical request not yet given one.
    pub fn script(&self, fault: Fault) {
        self.shared.update(|s| s.script.push_back(fault));
    }

    /// Closes the next `n` connections as soon as they are accepted, before the handshake.
    pub fn refuse_connections(&self, n: u32) {
        self.shared.update(|s| s.refuse = n);
    }

    /// From now on accepts connections but never answers their handshake.
    pub fn silent(&self, on: bool) {
        self.shared.update(|s| s.silent = on);
    }

    /// Answers every held request now.
    #[allow(dead_code)]
    pub fn release_held(&self) {
        self.shared.update(|s| s.held.clear());
    }

    /// Closes every open connection now, as a gateway restart or a network cut does.
    pub fn drop_connections(&self) {
        for (_, c) in self.shared.live.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// A snapshot of what the gateway saw.
    pub fn with<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.shared.lock())
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.with(|s| s.historical.clone())
    }

    /// Fails the test if the referee counted a pacing violation or the gateway could not read
    /// a frame.
    pub fn assert_clean(&self) {
        self.with(|s| {
            assert!(
                s.protocol_errors.is_empty(),
                "the stand-in gateway could not read: {:?}",
                s.protocol_errors
            );
            let v = s.violations();
            assert!(
                v.is_empty(),
                "{} pacing violations at the referee, first: {:?}",
                v.len(),
                v.first()
            );
        });
    }

    /// Waits (up to the tests' deadline) until `f` gives a value.
    pub async fn wait_for<T>(&self, what: &str, f: impl Fn(&State) -> Option<T>) -> T {
        crate::helpers::within(format!("the stand-in gateway: {what}"), async {
            loop {
                let changed = self.shared.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if let Some(v) = f(&self.shared.lock()) {
                    return v;
                }
                changed.await;
            }
        })
        .await
    }
}

impl Drop for StandInGateway {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.drop_connections();
        self.shared.released.notify_all();
        // Wakes the accept loop so it sees the stop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Writes frames whole, from the reading thread and from delayed answers.
#[derive(Clone)]
struct Writer(Arc<Mutex<TcpStream>>);

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

fn proto_frame(id: u32, m: Enc) -> Vec<u8> {
    let mut body = (id + PROTOBUF).to_be_bytes().to_vec();
    body.extend_from_slice(&m.0);
    frame(&body)
}

fn error_frame(id: i64, code: i64, text: &str) -> Vec<u8> {
    proto_frame(
        ERR_MSG,
        Enc::default()
            .int(1, id)
            .int(2, Utc::now().timestamp_millis())
            .int(3, code)
            .str(4, text),
    )
}

impl Writer {
    fn send(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.write_all(bytes)?;
        s.flush()
    }

    /// A few bytes per write, each flushed on its own (TCP_NODELAY), so the client reads the
    /// answer in many pieces.
    fn send_split(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for piece in bytes.chunks(5) {
            s.write_all(piece)?;
            s.flush()?;
            // Lets each piece leave as its own segment: the point of this fault.
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(())
    }

    /// The first half of `bytes`, then the connection closes.
    fn send_half_and_close(&self, bytes: &[u8]) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let _ = s.write_all(&bytes[..bytes.len() / 2]);
        let _ = s.flush();
        let _ = s.shutdown(Shutdown::Both);
    }
}

fn read_exact(stream: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let len = read_exact(stream, 4)?;
    let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
    read_exact(stream, len)
}

fn connection(shared: Arc<Shared>, mut stream: TcpStream, id: u64) {
    if shared.stop.load(Ordering::SeqCst) {
        return;
    }
    let (refuse, silent) = shared.update(|s| {
        s.connections += 1;
        let refuse = s.refuse > 0;
        s.refuse = s.refuse.saturating_sub(1);
        (refuse, s.silent)
    });
    if refuse {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let _ = stream.set_nodelay(true);
    shared
        .live
        .lock()
        .unwrap()
        .push((id, stream.try_clone().unwrap()));
    let mut client_id = None;
    serve(&shared, &mut stream, id, silent, &mut client_id);
    let _ = stream.shutdown(Shutdown::Both);
    shared.live.lock().unwrap().retain(|(c, _)| *c != id);
    shared.update(|s| {
        if let Some(c) = client_id {
            s.live_clients.remove(&c);
        }
    });
}

fn protocol_error(shared: &Shared, e: String) {
    shared.update(|s| s.protocol_errors.push(e));
}

fn serve(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    conn: u64,
    silent: bool,
    client_id: &mut Option<i64>,
) {
    // "API\0" then "v{min}..{max}".
    let Some(prefix) = read_exact(stream, 4) else {
        return;
    };
    if prefix != b"API\0" {
        return protocol_error(shared, format!("handshake prefix {prefix:?}"));
    }
    let Some(versions) = read_frame(stream) else {
        return;
    };
    let versions = String::from_utf8_lossy(&versions).into_owned();
    let range = versions
        .strip_prefix('v')
        .and_then(|v| v.split_once(".."))
        .and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?)));
    match range {
        Some((min, max)) if (min..=max).contains(&SERVER_VERSION) => {}
        _ => return protocol_error(shared, format!("version range {versions:?}")),
    }
    if silent {
        // Holds the connection open without a word until the client gives up.
        while read_exact(stream, 1).is_some() {}
        return;
    }
    let writer = Writer(Arc::new(Mutex::new(stream.try_clone().unwrap())));
    let time = Utc::now().format("%Y%m%d %H:%M:%S UTC");
    if writer
        .send(&frame(format!("{SERVER_VERSION}\0{time}\0").as_bytes()))
        .is_err()
    {
        return;
    }
    shared.update(|s| s.handshakes += 1);
    while let Some(body) = read_frame(stream) {
        if body.len() < 4 {
            return protocol_error(shared, format!("frame of {} bytes", body.len()));
        }
        let raw_id = u32::from_be_bytes(body[..4].try_into().unwrap());
        let Some(id) = raw_id.checked_sub(PROTOBUF) else {
            return protocol_error(shared, format!("text frame {raw_id} at version 226"));
        };
        let m = match Msg::decode(&body[4..]) {
            Ok(m) => m,
            Err(e) => return protocol_error(shared, format!("message {id}: {e}")),
        };
        let ok = match id {
            START_API => {
                let cid = m.int(1).unwrap_or(0);
                let taken = shared.update(|s| {
                    s.sessions += 1;
                    !s.live_clients.insert(cid)
                });
                if taken {
                    let _ = writer.send(&error_frame(
                        -1,
                        326,
                        &format!("Unable to connect as the client id is already in use. Retry with a unique client id. ({cid})"),
                    ));
                    return;
                }
                *client_id = Some(cid);
                let mut out = proto_frame(NEXT_VALID_ID, Enc::default().int(1, 1));
                out.extend(proto_frame(
                    MANAGED_ACCOUNTS,
                    Enc::default().str(1, "DU1234567"),
                ));
                for (code, text) in FARM_NOTICES {
                    out.extend(error_frame(-1, code, text));
                }
                writer.send(&out).is_ok()
            }
            REQ_HISTORICAL_DATA => historical(shared, &writer, conn, &m),
            CANCEL_HISTORICAL_DATA => {
                let req = m.int(1).unwrap_or(-1);
                shared.update(|s| {
                    s.cancels.push(req);
                    s.held.remove(&req);
                });
                true
            }
            REQ_HEAD_TIMESTAMP => head_timestamp(shared, &writer, &m),
            REQ_CONTRACT_DATA => contract_data(shared, &writer, &m),
            other => {
                shared.update(|s| s.other.push((format!("message {other}"), String::new())));
                true
            }
        };
        if !ok {
            return;
        }
    }
}

/// The contract fields of a request's `contract` (IB's Contract message).
struct ContractFields {
    symbol: String,
    sec_type: String,
    exchange: String,
    currency: String,
}

fn contract_of(m: &Msg) -> ContractFields {
    let c = m.msg(2).unwrap_or_default();
    ContractFields {
        symbol: c.str(2).unwrap_or_default(),
        sec_type: c.str(3).unwrap_or_default(),
        exchange: c.str(8).unwrap_or_default(),
        currency: c.str(10).unwrap_or_default(),
    }
}

impl ContractFields {
    /// The CSV name of the instrument: the symbol, or base and quote for a pair.
    fn file_symbol(&self) -> String {
        match self.sec_type.as_str() {
            "CASH" | "CRYPTO" => format!("{}{}", self.symbol, self.currency),
            _ => self.symbol.clone(),
        }
    }
}

/// IB's bar sizes and the CSV suffix the stand-in serves for them.
fn csv_suffix(bar_size: &str) -> Option<&'static str> {
    Some(match bar_size {
        "1 min" => "1m",
        "5 mins" => "5m",
        "15 mins" => "15m",
        "30 mins" => "30m",
        "1 hour" => "1h",
        "2 hours" => "2h",
        "4 hours" => "4h",
        "1 day" => "1d",
        "1 week" => "1w",
        "1 month" => "1M",
        _ => return None,
    })
}

const WHAT_TO_SHOW: [&str; 11] = [
    "TRADES",
    "MIDPOINT",
    "BID",
    "ASK",
    "BID_ASK",
    "ADJUSTED_LAST",
    "HISTORICAL_VOLATILITY",
    "OPTION_IMPLIED_VOLATILITY",
    "FEE_RATE",
    "SCHEDULE",
    "AGGTRADES",
];

/// IB's `endDateTime`: `yyyymmdd hh:mm:ss UTC`, `yyyymmdd-hh:mm:ss` (UTC) or empty (now).
fn parse_end(s: &str) -> Result<DateTime<Utc>, String> {
    if s.is_empty() {
        return Ok(Utc::now());
    }
    if let Some(t) = s.strip_suffix(" UTC") {
        return NaiveDateTime::parse_from_str(t, "%Y%m%d %H:%M:%S")
            .map(|t| t.and_utc())
            .map_err(|e| format!("{s:?}: {e}"));
    }
    NaiveDateTime::parse_from_str(s, "%Y%m%d-%H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|_| format!("{s:?}: not yyyymmdd hh:mm:ss UTC nor yyyymmdd-hh:mm:ss"))
}

/// IB's duration: `{n} S|D|W|M|Y`.
fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let (n, unit) = s.split_once(' ').ok_or(format!("duration {s:?}"))?;
    let n: i64 = n.parse().map_err(|_| format!("duration {s:?}"))?;
    if n <= 0 {
        return Err(format!("duration {s:?}"));
    }
    Ok(match unit {
        "S" => chrono::Duration::seconds(n),
        "D" => chrono::Duration::days(n),
        "W" => chrono::Duration::weeks(n),
        "M" => chrono::Duration::days(30 * n),
        "Y" => chrono::Duration::days(365 * n),
        _ => return Err(format!("duration unit in {s:?}")),
    })
}

/// A CSV bar: start time and OHLCV.
type CsvBar = (DateTime<Utc>, [f64; 5]);

/// The bars of a CSV file (`datetime,open,high,low,close,volume`), sorted by time.
fn read_csv(path: &Path) -> Option<Vec<CsvBar>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 6 {
            continue;
        }
        let t = NaiveDateTime::parse_from_str(f[0], "%Y-%m-%d %H:%M:%S")
            .map(|t| t.and_utc())
            .or_else(|_| {
                NaiveDate::parse_from_str(f[0], "%Y-%m-%d")
                    .map(|d| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap()))
            })
            .ok()?;
        let n = |i: usize| f[i].trim().parse::<f64>().unwrap_or(0.0);
        out.push((t, [n(1), n(2), n(3), n(4), n(5)]));
    }
    out.sort_by_key(|b| b.0);
    Some(out)
}

/// The referee's verdict on a request arriving `now`, against the ones before it.
fn referee(shared: &Shared, before: &[Seen], new: &Seen) -> Option<String> {
    let within = |w: Duration| {
        before
            .iter()
            .filter(move |s| new.at.saturating_duration_since(s.at) < w)
    };
    let in_window = within(shared.window).count();
    if in_window >= 60 {
        return Some(format!(
            "request {} ({} {}): the {} within {:?}",
            new.req_id,
            new.symbol,
            new.end,
            ordinal(in_window + 1),
            shared.window
        ));
    }
    let same_contract = |s: &&Seen| {
        s.symbol == new.symbol
            && s.sec_type == new.sec_type
            && s.exchange == new.exchange
            && s.currency == new.currency
            && s.what_to_show == new.what_to_show
    };
    if let Some(s) = within(shared.identical).find(|s| {
        same_contract(s)
            && s.end == new.end
            && s.duration == new.duration
            && s.bar_size == new.bar_size
            && s.use_rth == new.use_rth
    }) {
        return Some(format!(
            "request {} ({} {} {}): identical to request {} {:?} before",
            new.req_id,
            new.symbol,
            new.end,
            new.duration,
            s.req_id,
            new.at.saturating_duration_since(s.at)
        ));
    }
    let n = within(shared.contract).filter(same_contract).count();
    if n >= 5 {
        return Some(format!(
            "request {} ({}): the {} for the contract within {:?}",
            new.req_id,
            new.symbol,
            ordinal(n + 1),
            shared.contract
        ));
    }
    None
}

/// `n` as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st, 61st, 62nd.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn historical(shared: &Arc<Shared>, writer: &Writer, conn: u64, m: &Msg) -> bool {
    let c = contract_of(m);
    let mut seen = Seen {
        at: Instant::now(),
        connection: conn,
        req_id: m.int(1).unwrap_or(-1),
        symbol: c.symbol.clone(),
        sec_type: c.sec_type.clone(),
        exchange: c.exchange.clone(),
        currency: c.currency.clone(),
        end: m.str(3).unwrap_or_default(),
        bar_size: m.str(4).unwrap_or_default(),
        duration: m.str(5).unwrap_or_default(),
        use_rth: m.bool(6).unwrap_or(false),
        what_to_show: m.str(7).unwrap_or_default(),
        format_date: m.int(8).unwrap_or(0),
        keep_up_to_date: m.bool(9).unwrap_or(false),
        violation: None,
        bars: 0,
    };
    let req = seen.req_id;
    let fault = shared.update(|s| {
        seen.violation = referee(shared, &s.historical, &seen);
        let fault = if seen.violation.is_none() {
            s.script.pop_front()
        } else {
            None
        };
        if matches!(fault, Some(Fault::Hold)) {
            s.held.insert(req);
        }
        s.historical.push(seen.clone());
        fault
    });
    if seen.violation.is_some() {
        return writer.send(&error_frame(req, 162, PACING_TEXT)).is_ok();
    }
    // IB's validation: the fields a malformed request gets error 321 for.
    let end = parse_end(&seen.end);
    let span = parse_duration(&seen.duration);
    let suffix = csv_suffix(&seen.bar_size);
    let (end, span, suffix) = match (end, span, suffix) {
        (Ok(e), Ok(d), Some(x)) if WHAT_TO_SHOW.contains(&seen.what_to_show.as_str()) => (e, d, x),
        (e, d, x) => {
            let why = format!(
                "Error validating request.-'bX' : cause - end {e:?}, duration {d:?}, bar size {:?} ({x:?}), what to show {:?}",
                seen.bar_size, seen.what_to_show
            );
            protocol_error(shared, why.clone());
            return writer.send(&error_frame(req, 321, &why)).is_ok();
        }
    };
    let errors = |code: i64, text: &str| writer.send(&error_frame(req, code, text)).is_ok();
    match fault {
        Some(Fault::NoData) => return errors(162, &format!("{NO_DATA_TEXT}: {}", c.symbol)),
        Some(Fault::NoSecurityDefinition) => return errors(200, NO_SECDEF_TEXT),
        Some(Fault::NotSubscribed) => return errors(354, NOT_SUBSCRIBED_TEXT),
        _ => {}
    }
    let file = shared
        .csv_dir
        .join(format!("{}_{suffix}.csv", c.file_symbol()));
    let Some(all) = shared.bars(&file) else {
        return errors(200, NO_SECDEF_TEXT);
    };
    let start = end - span;
    let from = all.partition_point(|(t, _)| *t < start);
    let to = all.partition_point(|(t, _)| *t < end);
    let bars = &all[from..to.max(from)];
    if bars.is_empty() {
        return errors(
            162,
            &format!(
                "{NO_DATA_TEXT}: {}@{} {}",
                c.symbol, c.exchange, seen.what_to_show
            ),
        );
    }
    let daily = matches!(suffix, "1d" | "1w" | "1M");
    let mut data = Enc::default().int(1, req);
    for (t, [o, h, l, cl, v]) in bars {
        // formatDate 2: epoch seconds for intraday bars; daily and longer bars by day.
        let date = if daily {
            t.format("%Y%m%d").to_string()
        } else {
            t.timestamp().to_string()
        };
        data = data.msg(
            2,
            Enc::default()
                .str(1, &date)
                .double(2, *o)
                .double(3, *h)
                .double(4, *l)
                .double(5, *cl)
                .str(6, &v.to_string())
                .str(7, &((o + cl) / 2.0).to_string())
                .int(8, 1),
        );
    }
    let mut answer = proto_frame(HISTORICAL_DATA, data);
    answer.extend(proto_frame(
        HISTORICAL_DATA_END,
        Enc::default()
            .int(1, req)
            .str(2, &start.format("%Y%m%d-%H:%M:%S").to_string())
            .str(3, &end.format("%Y%m%d-%H:%M:%S").to_string()),
    ));
    let n = bars.len();
    shared.update(|s| {
        if let Some(x) = s.historical.iter_mut().rev().find(|x| x.req_id == req) {
            x.bars = n;
        }
    });
    match fault {
        Some(Fault::Notices) => {
            let mut out = Vec::new();
            for (code, text) in FARM_NOTICES {
                out.extend(error_frame(req, code, text));
            }
            out.extend(answer);
            writer.send(&out).is_ok()
        }
        Some(Fault::Split) => writer.send_split(&answer).is_ok(),
        Some(Fault::DropMidAnswer) => {
            shared.update(|s| {
                if let Some(x) = s.historical.iter_mut().rev().find(|x| x.req_id == req) {
                    x.bars = 0;
                }
            });
            writer.send_half_and_close(&answer);
            false
        }
        Some(Fault::Delay(d)) => {
            let writer = writer.clone();
            std::thread::spawn(move || {
                std::thread::sleep(d);
                let _ = writer.send(&answer);
            });
            true
        }
        Some(Fault::Hold) => {
            let (shared, writer) = (shared.clone(), writer.clone());
            std::thread::spawn(move || {
                let mut s = shared.lock();
                while s.held.contains(&req) && !shared.stop.load(Ordering::SeqCst) {
                    s = shared.released.wait(s).unwrap_or_else(|p| p.into_inner());
                }
                let cancelled = s.cancels.contains(&req);
                drop(s);
                // After a cancel IB sends nothing more for the request.
                if !cancelled {
                    let _ = writer.send(&answer);
                }
            });
            true
        }
        _ => writer.send(&answer).is_ok(),
    }
}

fn head_timestamp(shared: &Arc<Shared>, writer: &Writer, m: &Msg) -> bool {
    let req = m.int(1).unwrap_or(-1);
    let c = contract_of(m);
    shared.update(|s| s.other.push(("head_timestamp".into(), c.symbol.clone())));
    let first = std::fs::read_dir(&shared.csv_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{}_", c.file_symbol()))
        })
        .filter_map(|e| shared.bars(&e.path())?.first().map(|b| b.0))
        .min();
    let out = match first {
        Some(t) => proto_frame(
            HEAD_TIMESTAMP,
            Enc::default()
                .int(1, req)
                .str(2, &t.timestamp().to_string()),
        ),
        None => error_frame(req, 162, &format!("{NO_DATA_TEXT}: {}", c.symbol)),
    };
    writer.send(&out).is_ok()
}

fn contract_data(shared: &Arc<Shared>, writer: &Writer, m: &Msg) -> bool {
    let req = m.int(1).unwrap_or(-1);
    let c = contract_of(m);
    shared.update(|s| s.other.push(("contract_details".into(), c.symbol.clone())));
    let known = std::fs::read_dir(&shared.csv_dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{}_", c.file_symbol()))
        });
    if !known {
        return writer.send(&error_frame(req, 200, NO_SECDEF_TEXT)).is_ok();
    }
    let contract = Enc::default()
        .int(1, 265598)
        .str(2, &c.symbol)
        .str(3, &c.sec_type)
        .str(8, &c.exchange)
        .str(9, "NASDAQ")
        .str(10, &c.currency)
        .str(11, &c.symbol)
        .str(12, &c.symbol);
    let details = Enc::default()
        .str(1, &c.symbol)
        .str(2, "0.01")
        .str(4, "SMART,NASDAQ")
        .str(7, &format!("{} (stand-in)", c.symbol))
        .str(12, "US/Eastern");
    let mut out = proto_frame(
        CONTRACT_DATA,
        Enc::default().int(1, req).msg(2, contract).msg(3, details),
    );
    out.extend(proto_frame(CONTRACT_DATA_END, Enc::default().int(1, req)));
    writer.send(&out).is_ok()
}
