//! The local bar store: one Parquet file per `{SYMBOL}_{timeframe}` under the data folder.
//! Existing KTRDR `{SYMBOL}_{timeframe}.csv` files are read when there is no Parquet file yet.
//! Blocking: call it from a blocking thread.
//!
//! Safe with several writers, threads or processes sharing the folder:
//! - a write goes to a temp file of its own (pid + a per-process counter), is fsynced and
//!   renamed into place, then the folder is fsynced: readers see the old file or the new one,
//!   never half of one, and a crash leaves at most a stray temp file;
//! - [`BarStore::merge_and_save`] holds the series' exclusive lock (`flock` on
//!   `.locks/{SYMBOL}_{timeframe}.lock`) from its read to its rename, so two merges never
//!   interleave and neither loses the other's bars;
//! - an unreadable file is [`StoreError::Damaged`], named by its series, and
//!   [`BarStore::move_aside`] keeps it under another name so the series can be rebuilt.
//!
//! Errors name the series or the file name, never the folder: they reach API clients.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;

use super::csv::{self, CsvError};
use ktrdr_core::bars::Bars;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Why the store could not read or write.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file system refused (permissions, disk full, ...).
    #[error("data store: {file}: {source}")]
    Io {
        /// The file's name inside the data folder.
        file: String,
        source: std::io::Error,
    },
    /// A stored file exists but cannot be decoded.
    #[error(
        "stored data for {symbol} {timeframe} is damaged ({file}: {reason}); a `full` load moves \
         the file aside and rebuilds the series"
    )]
    Damaged {
        symbol: Symbol,
        timeframe: Timeframe,
        file: String,
        reason: String,
    },
    /// Bars that cannot be written (columns of unequal length, nothing to write).
    #[error("cannot store {symbol} {timeframe}: {reason}")]
    Invalid {
        symbol: Symbol,
        timeframe: Timeframe,
        reason: String,
    },
}

/// What is stored for one symbol and timeframe.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSeries {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub path: PathBuf,
}

/// The store (see the module docs).
#[derive(Debug, Clone)]
pub struct BarStore {
    dir: PathBuf,
}

/// The exclusive lock of one series; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct SeriesLock {
    _file: File,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        file: file_name(path),
        source,
    }
}

/// Temp files of this process: with the pid, unique across processes too.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl BarStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn parquet_path(&self, symbol: &Symbol, tf: Timeframe) -> PathBuf {
        self.dir.join(format!("{symbol}_{tf}.parquet"))
    }

    pub fn csv_path(&self, symbol: &Symbol, tf: Timeframe) -> PathBuf {
        self.dir.join(format!("{symbol}_{tf}.csv"))
    }

    fn damaged(symbol: &Symbol, tf: Timeframe, path: &Path, reason: String) -> StoreError {
        StoreError::Damaged {
            symbol: symbol.clone(),
            timeframe: tf,
            file: file_name(path),
            reason,
        }
    }

    /// Takes the series' exclusive lock, waiting for another holder (thread or process).
    pub fn lock_series(&self, symbol: &Symbol, tf: Timeframe) -> Result<SeriesLock, StoreError> {
        let dir = self.dir.join(".locks");
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(format!("{symbol}_{tf}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        file.lock().map_err(io(&path))?;
        Ok(SeriesLock { _file: file })
    }

    /// The stored bars (empty when nothing is stored).
    pub fn read(&self, symbol: &Symbol, tf: Timeframe) -> Result<Bars, StoreError> {
        let parquet = self.parquet_path(symbol, tf);
        if parquet.exists() {
            return read_parquet(&parquet)
                .map_err(|e| e.into_store_error(|r| Self::damaged(symbol, tf, &parquet, r)));
        }
        let csv_file = self.csv_path(symbol, tf);
        if csv_file.exists() {
            let text = fs::read_to_string(&csv_file).map_err(io(&csv_file))?;
            let bars = csv::parse(&text)
                .map_err(|e: CsvError| Self::damaged(symbol, tf, &csv_file, e.to_string()))?;
            // An old file may be unsorted or hold duplicates: the validator's repair applies.
            return Ok(super::validation::validate(&bars, tf).0);
        }
        Ok(Bars::default())
    }

    /// Replaces the stored bars atomically; returns the file written. Refuses empty or
    /// inconsistent bars: the store never holds an empty file. Callers that merge take the
    /// series lock first ([`Self::merge_and_save`] does).
    pub fn write(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        bars: &Bars,
    ) -> Result<PathBuf, StoreError> {
        let invalid = |reason: &str| StoreError::Invalid {
            symbol: symbol.clone(),
            timeframe: tf,
            reason: reason.to_owned(),
        };
        if bars.is_empty() {
            return Err(invalid("no bars to write"));
        }
        if !bars.is_consistent() {
            return Err(invalid("columns of different lengths"));
        }
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.parquet_path(symbol, tf);
        let tmp = self.dir.join(format!(
            ".{symbol}_{tf}.parquet.{}.{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = File::create(&tmp).map_err(io(&tmp))?;
            let mut df = to_frame(bars).map_err(|e| invalid(&e.to_string()))?;
            ParquetWriter::new(&mut file)
                .finish(&mut df)
                .map_err(|e| StoreError::Io {
                    file: file_name(&tmp),
                    source: std::io::Error::other(e.to_string()),
                })?;
            file.flush().map_err(io(&tmp))?;
            file.sync_all().map_err(io(&tmp))?;
            fs::rename(&tmp, &path).map_err(io(&path))?;
            // Make the rename itself durable.
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io(&self.dir))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map(|()| path)
    }

    /// Merges `fetched` into what is stored (fetched wins on equal times) and saves it, under
    /// the series lock. Nothing fetched writes nothing. Returns the stored series.
    pub fn merge_and_save(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        fetched: &Bars,
    ) -> Result<Bars, StoreError> {
        let _lock = self.lock_series(symbol, tf)?;
        let stored = self.read(symbol, tf)?;
        if fetched.is_empty() {
            return Ok(stored);
        }
        let merged = Bars::merge(&stored, fetched);
        self.write(symbol, tf, &merged)?;
        Ok(merged)
    }

    /// Moves an unreadable series file aside, kept as `{file}.damaged-{UTC time}`, under the
    /// series lock; returns the new name. Nothing stored, or a file that reads (another
    /// writer rebuilt it meanwhile), is `Ok(None)`: nothing moved.
    pub fn move_aside(&self, symbol: &Symbol, tf: Timeframe) -> Result<Option<String>, StoreError> {
        let _lock = self.lock_series(symbol, tf)?;
        if self.read(symbol, tf).is_ok() {
            return Ok(None);
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        for path in [self.parquet_path(symbol, tf), self.csv_path(symbol, tf)] {
            if path.exists() {
                let name = format!("{}.damaged-{stamp}", file_name(&path));
                let to = self.dir.join(&name);
                fs::rename(&path, &to).map_err(io(&path))?;
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// First and last bar time (ms) and the bar count of a stored series, without reading its
    /// prices: a Parquet file's `date` column only.
    pub fn summary(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
    ) -> Result<(Option<i64>, Option<i64>, usize), StoreError> {
        let t = self.times(symbol, tf)?;
        // Stored series are sorted (the store writes them so).
        Ok((t.first().copied(), t.last().copied(), t.len()))
    }

    /// The stored bar times (ms), reading only a Parquet file's `date` column.
    pub fn times(&self, symbol: &Symbol, tf: Timeframe) -> Result<Vec<i64>, StoreError> {
        let parquet = self.parquet_path(symbol, tf);
        if !parquet.exists() {
            return Ok(self.read(symbol, tf)?.time);
        }
        let file = File::open(&parquet).map_err(io(&parquet))?;
        let read = || -> PolarsResult<Vec<i64>> {
            let df = ParquetReader::new(file)
                .with_columns(Some(vec!["date".into()]))
                .finish()?;
            let date = df.column("date")?.cast(&DataType::Int64)?;
            no_nulls("date", date.null_count())?;
            Ok(date.i64()?.into_no_null_iter().collect())
        };
        read().map_err(|e| Self::damaged(symbol, tf, &parquet, e.to_string()))
    }

    /// Every stored series, Parquet or CSV, sorted by symbol and timeframe.
    pub fn list(&self) -> Vec<StoredSeries> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<StoredSeries> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let path = e.path();
                let stem = path.file_stem()?.to_str()?;
                let ext = path.extension()?.to_str()?;
                if ext != "parquet" && ext != "csv" {
                    return None;
                }
                let (sym, tf) = stem.rsplit_once('_')?;
                Some(StoredSeries {
                    symbol: sym.parse().ok()?,
                    timeframe: tf.parse().ok()?,
                    path,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.symbol, a.timeframe, &a.path).cmp(&(&b.symbol, b.timeframe, &b.path))
        });
        // A Parquet file shadows a CSV of the same series.
        out.dedup_by(|b, a| a.symbol == b.symbol && a.timeframe == b.timeframe);
        out
    }
}

/// Why a Parquet file could not be read: the file system, or its content.
enum ReadError {
    Io(std::io::Error, PathBuf),
    Decode(String),
}

impl ReadError {
    fn into_store_error(self, damaged: impl FnOnce(String) -> StoreError) -> StoreError {
        match self {
            Self::Io(e, path) => io(&path)(e),
            Self::Decode(reason) => damaged(reason),
        }
    }
}

/// The bars as a frame: `date` (datetime, ms) and the OHLCV columns.
pub fn to_frame(bars: &Bars) -> PolarsResult<DataFrame> {
    let date = Column::new("date".into(), bars.time.as_slice())
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
    DataFrame::new(
        bars.len(),
        vec![
            date,
            Column::new("open".into(), bars.open.as_slice()),
            Column::new("high".into(), bars.high.as_slice()),
            Column::new("low".into(), bars.low.as_slice()),
            Column::new("close".into(), bars.close.as_slice()),
            Column::new("volume".into(), bars.volume.as_slice()),
        ],
    )
}

fn no_nulls(column: &str, nulls: usize) -> PolarsResult<()> {
    if nulls > 0 {
        polars_bail!(ComputeError: "column {column} has {nulls} missing values");
    }
    Ok(())
}

/// Bars as the bytes of a Parquet file (the store's own layout), e.g. to send them.
pub fn bars_to_parquet(bars: &Bars) -> PolarsResult<Vec<u8>> {
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(&mut to_frame(bars)?)?;
    Ok(out)
}

/// Bars from the bytes of a Parquet file written by [`bars_to_parquet`] (or the store).
pub fn bars_from_parquet(bytes: &[u8]) -> PolarsResult<Bars> {
    let df = ParquetReader::new(std::io::Cursor::new(bytes)).finish()?;
    bars_of_frame(&df)
}

fn read_parquet(path: &Path) -> Result<Bars, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::Io(e, path.to_owned()))?;
    let decode = |e: PolarsError| ReadError::Decode(e.to_string());
    let df = ParquetReader::new(file).finish().map_err(decode)?;
    bars_of_frame(&df).map_err(decode)
}

/// The bars of a frame in the store's layout (`date` and the OHLCV columns, no nulls).
pub fn bars_of_frame(df: &DataFrame) -> PolarsResult<Bars> {
    let floats = |name: &str| -> PolarsResult<Vec<f64>> {
        let c = df.column(name)?.cast(&DataType::Float64)?;
        no_nulls(name, c.null_count())?;
        Ok(c.f64()?.into_no_null_iter().collect())
    };
    let date = df.column("date")?.cast(&DataType::Int64)?;
    no_nulls("date", date.null_count())?;
    Ok(Bars {
        time: date.i64()?.into_no_null_iter().collect(),
        open: floats("open")?,
        high: floats("high")?,
        low: floats("low")?,
        close: floats("close")?,
        volume: floats("volume")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary (date column only) agrees with a full read.
    #[test]
    fn summary_reads_only_the_dates() {
        let dir = tempfile::tempdir().unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "ABC".parse().unwrap();
        assert_eq!(store.summary(&sym, Timeframe::H1).unwrap(), (None, None, 0));
        let bars = sample(&[3_600_000, 7_200_000, 10_800_000], 5.0);
        store.write(&sym, Timeframe::H1, &bars).unwrap();
        assert_eq!(
            store.summary(&sym, Timeframe::H1).unwrap(),
            (Some(3_600_000), Some(10_800_000), 3)
        );
    }
    use ktrdr_core::bars::Bar;

    fn sample(times: &[i64], price: f64) -> Bars {
        let mut b = Bars::default();
        for &t in times {
            b.push(Bar {
                time: t,
                open: price,
                high: price + 1.0,
                low: price - 1.0,
                close: price,
                volume: 10.0,
            });
        }
        b
    }

    /// Written bars read back identically; the temp file is gone.
    #[test]
    fn parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "AAPL".parse().unwrap();
        let bars = sample(&[1_700_000_000_000, 1_700_000_060_000], 5.5);
        let path = store.write(&sym, Timeframe::M1, &bars).unwrap();
        assert!(path.ends_with("AAPL_1m.parquet"));
        assert_eq!(store.read(&sym, Timeframe::M1).unwrap(), bars);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["AAPL_1m.parquet"]);
    }

    /// Merging keeps the stored bars and lets fetched ones win.
    #[test]
    fn merge_and_save() {
        let dir = tempfile::tempdir().unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "X".parse().unwrap();
        store
            .write(&sym, Timeframe::H1, &sample(&[1, 2, 3], 1.0))
            .unwrap();
        let merged = store
            .merge_and_save(&sym, Timeframe::H1, &sample(&[3, 4], 2.0))
            .unwrap();
        assert_eq!(merged.time, vec![1, 2, 3, 4]);
        assert_eq!(
            store.read(&sym, Timeframe::H1).unwrap().close,
            vec![1.0, 1.0, 2.0, 2.0]
        );
    }

    /// KTRDR CSV files are read (and repaired) when there is no Parquet file; listing sees both kinds.
    #[test]
    fn reads_ktrdr_csv_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("GOOG_1d.csv"), ",Open,High,Low,Close,Volume\n2004-08-20,101.01,109.08,100.5,108.31,11428600\n2004-08-19,100,104.06,95.96,100.34,22351900\n").unwrap();
        fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "GOOG".parse().unwrap();
        let bars = store.read(&sym, Timeframe::D1).unwrap();
        assert_eq!(bars.len(), 2);
        assert!(bars.time[0] < bars.time[1], "sorted");
        store
            .write(&"AAPL".parse().unwrap(), Timeframe::H1, &sample(&[1], 1.0))
            .unwrap();
        let listed: Vec<String> = store
            .list()
            .iter()
            .map(|s| format!("{}_{}", s.symbol, s.timeframe))
            .collect();
        assert_eq!(listed, vec!["AAPL_1h", "GOOG_1d"]);
    }

    /// Nothing stored reads as empty; a corrupt file is an error naming it, and a failed write
    /// leaves the previous file intact.
    #[test]
    fn empty_corrupt_and_failed_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "Z".parse().unwrap();
        assert!(store.read(&sym, Timeframe::D1).unwrap().is_empty());
        fs::write(store.parquet_path(&sym, Timeframe::D1), b"not parquet").unwrap();
        let err = store.read(&sym, Timeframe::D1).unwrap_err();
        assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("Z 1d") && msg.contains("Z_1d.parquet"),
            "{msg}"
        );
        let folder = dir.path().to_string_lossy().into_owned();
        assert!(!msg.contains(&folder), "no folder path in {msg}");
        let good = sample(&[1, 2], 3.0);
        store.write(&sym, Timeframe::H4, &good).unwrap();
        let broken = Bars {
            time: vec![1, 2, 3],
            ..good.clone()
        }; // columns of unequal length
        assert!(store.write(&sym, Timeframe::H4, &broken).is_err());
        assert_eq!(store.read(&sym, Timeframe::H4).unwrap(), good);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp file left"
        );
    }

    /// Many writers at once, each with its own store handle (as separate processes would
    /// have), merging disjoint bars into one series: every bar of every writer is kept, the
    /// file stays readable, and no temp file is left.
    #[test]
    fn concurrent_merges_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sym: Symbol = "RACE".parse().unwrap();
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = BarStore::new(dir.path());
                let sym = sym.clone();
                std::thread::spawn(move || {
                    for round in 0..10 {
                        let t = (round * 8 + w) * 3_600_000;
                        store
                            .merge_and_save(&sym, Timeframe::H1, &sample(&[t], 1.0 + w as f64))
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let store = BarStore::new(dir.path());
        let bars = store.read(&sym, Timeframe::H1).unwrap();
        let want: Vec<i64> = (0..80).map(|i| i * 3_600_000).collect();
        assert_eq!(bars.time, want);
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec![".locks", "RACE_1h.parquet"]);
    }

    /// Nothing to merge writes nothing; an empty write is refused: the store never holds an
    /// empty file.
    #[test]
    fn never_writes_an_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "E".parse().unwrap();
        assert!(store
            .merge_and_save(&sym, Timeframe::D1, &Bars::default())
            .unwrap()
            .is_empty());
        assert!(!store.parquet_path(&sym, Timeframe::D1).exists());
        let err = store
            .write(&sym, Timeframe::D1, &Bars::default())
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
        assert!(!store.parquet_path(&sym, Timeframe::D1).exists());
    }

    /// A damaged file moved aside is kept under a name the store does not list; the series
    /// then reads as empty and can be written again.
    #[test]
    fn damaged_file_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = BarStore::new(dir.path());
        let sym: Symbol = "D".parse().unwrap();
        assert_eq!(store.move_aside(&sym, Timeframe::D1).unwrap(), None);
        // A file that reads is not moved (another writer rebuilt it meanwhile).
        store
            .write(&sym, Timeframe::D1, &sample(&[0], 1.0))
            .unwrap();
        assert_eq!(store.move_aside(&sym, Timeframe::D1).unwrap(), None);
        assert_eq!(store.read(&sym, Timeframe::D1).unwrap().len(), 1);
        fs::write(store.parquet_path(&sym, Timeframe::D1), b"PAR1 truncated").unwrap();
        assert!(store.times(&sym, Timeframe::D1).is_err());
        let name = store.move_aside(&sym, Timeframe::D1).unwrap().unwrap();
        assert!(name.starts_with("D_1d.parquet.damaged-"), "{name}");
        assert_eq!(fs::read(dir.path().join(&name)).unwrap(), b"PAR1 truncated");
        assert!(store.read(&sym, Timeframe::D1).unwrap().is_empty());
        assert!(store.list().is_empty(), "the kept file is not a series");
        store
            .write(&sym, Timeframe::D1, &sample(&[86_400_000], 2.0))
            .unwrap();
        assert_eq!(store.read(&sym, Timeframe::D1).unwrap().len(), 1);
    }
}
