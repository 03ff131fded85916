//! Reading and writing bar CSV files: KTRDR's `date,open,high,low,close,volume` and the usual
//! vendor variants (any letter case; a first column named `date`, `datetime`, `timestamp`,
//! `time` or left unnamed; dates as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or ISO 8601 with an
//! offset; naive times taken as UTC).

use std::io::Write;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::{CsvReadOptions, SerReader};

use ktrdr_core::bars::{Bar, Bars};

/// Why a CSV file could not be read; line numbers are 1-based, the header is line 1.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    #[error("empty file: no header")]
    Empty,
    #[error("missing column {0:?} (header: {1})")]
    MissingColumn(&'static str, String),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    /// The text is not CSV polars can split (unbalanced quotes, ragged lines).
    #[error("not a readable CSV file: {0}")]
    Malformed(String),
}

const DATE_NAMES: [&str; 5] = ["date", "datetime", "timestamp", "time", ""];

/// Parses a date or date-time as UTC milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim().trim_matches('"');
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp_millis());
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_millis()
    })
}

/// Reads bars from CSV text, in file order (validation sorts and dedupes). The text is split
/// into fields by polars' CSV reader (quoted fields, quoted commas, CRLF), every column read
/// as text; dates and numbers are then parsed here so that an error names its line (lines
/// count from the header, line 1; blank lines are skipped and not counted).
pub fn parse(text: &str) -> Result<Bars, CsvError> {
    if text.trim().is_empty() {
        return Err(CsvError::Empty);
    }
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(std::io::Cursor::new(text.as_bytes()))
        .finish()
        .map_err(|e| CsvError::Malformed(e.to_string()))?;
    let header = frame
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |want: &'static str| {
        names
            .iter()
            .position(|n| n == want)
            .ok_or_else(|| CsvError::MissingColumn(want, header.clone()))
    };
    // KTRDR writes the date column without a name; polars calls it `column_1`.
    let unnamed_first = names[0].is_empty() || names[0] == "column_1";
    let date_col = if unnamed_first || DATE_NAMES.contains(&names[0].as_str()) {
        0
    } else {
        names
            .iter()
            .position(|n| DATE_NAMES.contains(&n.as_str()))
            .ok_or_else(|| CsvError::MissingColumn("date", header.clone()))?
    };
    let cols = [
        find("open")?,
        find("high")?,
        find("low")?,
        find("close")?,
        find("volume")?,
    ];
    let text_column = |c: usize| -> Result<Vec<Option<&str>>, CsvError> {
        let column = frame
            .select_at_idx(c)
            .ok_or_else(|| CsvError::Malformed(format!("no column {c}")))?
            .str()
            .map_err(|e| CsvError::Malformed(e.to_string()))?;
        Ok(column.iter().collect())
    };
    let dates = text_column(date_col)?;
    let values = cols
        .iter()
        .map(|&c| text_column(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut bars = Bars::with_capacity(frame.height());
    for (row, date) in dates.iter().enumerate() {
        let bad = |reason: String| CsvError::Line {
            line: row + 2,
            reason,
        };
        let date = date.unwrap_or_default().trim();
        let time = parse_time(date).ok_or_else(|| bad(format!("unreadable date {date:?}")))?;
        let mut v = [0.0; 5];
        for ((slot, column), &c) in v.iter_mut().zip(&values).zip(&cols) {
            let f = column[row].unwrap_or_default().trim();
            *slot = if f.is_empty() {
                f64::NAN
            } else {
                f.parse()
                    .map_err(|_| bad(format!("not a number: {f:?} in column {}", names[c])))?
            };
        }
        bars.push(Bar {
            time,
            open: v[0],
            high: v[1],
            low: v[2],
            close: v[3],
            volume: v[4],
        });
    }
    Ok(bars)
}

/// Writes bars as KTRDR CSV (`date` as ISO 8601 UTC).
pub fn write(bars: &Bars, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "date,open,high,low,close,volume")?;
    for i in 0..bars.len() {
        let b = bars.get(i);
        let t = DateTime::from_timestamp_millis(b.time).unwrap_or_default();
        writeln!(
            out,
            "{},{},{},{},{},{}",
            t.format("%Y-%m-%dT%H:%M:%SZ"),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KTRDR's own files: an unnamed first column and capitalised names.
    #[test]
    fn ktrdr_format() {
        let b = parse(",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n")
            .unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(
            b.first_time().unwrap().to_rfc3339(),
            "2004-08-19T00:00:00+00:00"
        );
        assert_eq!(b.close[0], 100.34);
    }

    /// Vendor variants: other date column names, order, times with and without offsets.
    #[test]
    fn vendor_variants() {
        let text = "Timestamp,volume,OPEN,high,low,close\n\
                    2024-03-08 14:30:00,5,1,2,0.5,1.5\n\
                    2024-03-08T10:31:00-05:00,6,1,2,0.5,1.5\n\
                    2024-03-08T15:32:00Z,7,1,2,0.5,1.5\n";
        let b = parse(text).unwrap();
        let iso: Vec<String> = (0..3)
            .map(|i| {
                DateTime::from_timestamp_millis(b.time[i])
                    .unwrap()
                    .to_rfc3339()
            })
            .collect();
        assert_eq!(
            iso,
            [
                "2024-03-08T14:30:00+00:00",
                "2024-03-08T15:31:00+00:00",
                "2024-03-08T15:32:00+00:00"
            ]
        );
        assert_eq!(b.volume, vec![5.0, 6.0, 7.0]);
    }

    /// Errors name the line and what is wrong.
    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse(""), Err(CsvError::Empty));
        assert!(matches!(
            parse("date,open,high,low,close\n"),
            Err(CsvError::MissingColumn("volume", _))
        ));
        let err =
            parse("date,open,high,low,close,volume\n2024-01-01,1,1,1,1,1\n2024-13-01,1,1,1,1,1\n")
                .unwrap_err();
        assert!(
            err.to_string().starts_with("line 3: unreadable date"),
            "{err}"
        );
        let err = parse("date,open,high,low,close,volume\n2024-01-01,1,x,1,1,1\n").unwrap_err();
        assert!(err.to_string().contains("column high"), "{err}");
    }

    /// Quoted fields, a quoted comma in a column ktrdr does not read, and CRLF line ends: the
    /// fields stay in their columns (splitting on every comma would shift them).
    #[test]
    fn quoted_fields() {
        let text = "\"Date\",\"Name\",\"Open\",\"High\",\"Low\",\"Close\",\"Volume\"\r\n\
                    \"2024-01-02\",\"Alphabet, Inc.\",\"10.5\",\"11\",\"10\",\"10.75\",\"1200\"\r\n\
                    2024-01-03,\"Alphabet, Inc. \"\"C\"\"\",10.75,12,10.5,11.5,1300\r\n";
        let b = parse(text).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b.open, vec![10.5, 10.75]);
        assert_eq!(b.close, vec![10.75, 11.5]);
        assert_eq!(b.volume, vec![1200.0, 1300.0]);
        assert_eq!(
            DateTime::from_timestamp_millis(b.time[1])
                .unwrap()
                .to_rfc3339(),
            "2024-01-03T00:00:00+00:00"
        );
    }

    /// What `write` writes, `parse` reads back.
    #[test]
    fn round_trip() {
        let b = parse("date,open,high,low,close,volume\n2024-03-08T14:30:00Z,1.25,2,0.5,1.5,100\n")
            .unwrap();
        let mut out = Vec::new();
        write(&b, &mut out).unwrap();
        assert_eq!(parse(std::str::from_utf8(&out).unwrap()).unwrap(), b);
    }
}
