//! The local bar store: one Parquet file per `{SYMBOL}_{timeframe}` under the data folder,
//! written atomically (temp file, fsync, rename, fsync of the folder) so a crash or a cancel
//! never leaves a truncated or mixed file. Existing KTRDR `{SYMBOL}_{timeframe}.csv` files are
//! read when there is no Parquet file yet. Blocking: call it from a blocking thread.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::bars::Bars;
use super::csv::{self, CsvError};
use super::timeframe::{Symbol, Timeframe};

/// Why the store could not read or write.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Parquet { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: CsvError },
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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn pq(path: &Path) -> impl FnOnce(PolarsError) -> StoreError + '_ {
    move |e| StoreError::Parquet {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

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

    /// The stored bars (empty when nothing is stored).
    pub fn read(&self, symbol: &Symbol, tf: Timeframe) -> Result<Bars, StoreError> {
        let parquet = self.parquet_path(symbol, tf);
        if parquet.exists() {
            return read_parquet(&parquet);
        }
        let csv_file = self.csv_path(symbol, tf);
        if csv_file.exists() {
            let text = fs::read_to_string(&csv_file).map_err(io(&csv_file))?;
            let bars = csv::parse(&text).map_err(|source| StoreError::Csv {
                path: csv_file.clone(),
                source,
            })?;
            // An old file may be unsorted or hold duplicates: the validator's repair applies.
            return Ok(super::validation::validate(&bars, tf).0);
        }
        Ok(Bars::default())
    }

    /// Replaces the stored bars atomically; returns the file written.
    pub fn write(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        bars: &Bars,
    ) -> Result<PathBuf, StoreError> {
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.parquet_path(symbol, tf);
        let tmp = self
            .dir
            .join(format!(".{symbol}_{tf}.parquet.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = File::create(&tmp).map_err(io(&tmp))?;
            let mut df = to_frame(bars).map_err(pq(&tmp))?;
            ParquetWriter::new(&mut file)
                .finish(&mut df)
                .map_err(pq(&tmp))?;
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

    /// Merges `fetched` into what is stored (fetched wins on equal times) and saves it.
    pub fn merge_and_save(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        fetched: &Bars,
    ) -> Result<Bars, StoreError> {
        let stored = self.read(symbol, tf)?;
        let merged = Bars::merge(&stored, fetched);
        self.write(symbol, tf, &merged)?;
        Ok(merged)
    }

    /// First and last bar time (ms) and the bar count of a stored series, without reading its
    /// prices: a Parquet file's `date` column only.
    pub fn summary(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
    ) -> Result<(Option<i64>, Option<i64>, usize), StoreError> {
        let parquet = self.parquet_path(symbol, tf);
        if !parquet.exists() {
            let b = self.read(symbol, tf)?;
            return Ok((b.time.first().copied(), b.time.last().copied(), b.len()));
        }
        let file = File::open(&parquet).map_err(io(&parquet))?;
        let read = || -> PolarsResult<(Option<i64>, Option<i64>, usize)> {
            let df = ParquetReader::new(file)
                .with_columns(Some(vec!["date".into()]))
                .finish()?;
            let date = df.column("date")?.cast(&DataType::Int64)?;
            let t = date.i64()?;
            // Stored series are sorted (the store writes them so).
            Ok((t.first(), t.last(), t.len()))
        };
        read().map_err(pq(&parquet))
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

fn read_parquet(path: &Path) -> Result<Bars, StoreError> {
    let file = File::open(path).map_err(io(path))?;
    let df = ParquetReader::new(file).finish().map_err(pq(path))?;
    let floats = |name: &str| -> PolarsResult<Vec<f64>> {
        let c = df.column(name)?.cast(&DataType::Float64)?;
        no_nulls(name, c.null_count())?;
        Ok(c.f64()?.into_no_null_iter().collect())
    };
    let read = || -> PolarsResult<Bars> {
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
    };
    read().map_err(pq(path))
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
    use crate::data::bars::Bar;

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
        let err = store.read(&sym, Timeframe::D1).unwrap_err().to_string();
        assert!(err.contains("Z_1d.parquet"), "{err}");
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
}
