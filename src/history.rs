//! Reported history: the quarters Alibaba has published, read from a CSV file the project
//! owns (`data/alibaba_cloud_quarterly.csv`, format in `data/README.md`) and validated as
//! strictly as a scenario file: every refusal names the file, line, column and what was
//! expected.
//!
//! The format: a header row, then one row per calendar quarter in order, without gaps.
//! `quarter_end` is the quarter's last day (`2026-03-31`); `cloud_revenue_rmb_bn` is
//! required; the other known columns are optional, numbers or `NA` for missing.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Quarter;

/// The history shipped with the crate (a copy of `data/alibaba_cloud_quarterly.csv`), used
/// when no file is given and none is found at the default path.
pub const EMBEDDED: &str = include_str!("../data/alibaba_cloud_quarterly.csv");
/// Where the commands look for the history when none is given.
pub const DEFAULT_PATH: &str = "data/alibaba_cloud_quarterly.csv";

/// Columns the parser knows, with what each holds (units in the names).
pub const COLUMNS: [(&str, &str); 9] = [
    (
        "quarter_end",
        "the quarter's last day, YYYY-MM-DD (2026-03-31)",
    ),
    ("fiscal_quarter", "Alibaba's fiscal label (FY26Q4), text"),
    (
        "cloud_revenue_rmb_bn",
        "Cloud Intelligence Group revenue in RMB bn for the quarter, greater than 0",
    ),
    (
        "yoy_growth_pct",
        "reported year-over-year revenue growth in percent (38 = +38%)",
    ),
    ("adj_ebita_rmb_bn", "adjusted EBITA in RMB bn"),
    (
        "adj_ebita_margin_pct",
        "adjusted EBITA margin in percent of revenue",
    ),
    (
        "group_capex_rmb_bn",
        "Alibaba group capex in RMB bn, at least 0",
    ),
    ("confidence", "how well sourced the row is, text"),
    ("source", "where the figures come from, text"),
];

/// One reported quarter. Missing figures (`NA`) are `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportedQuarter {
    /// Calendar quarter.
    pub quarter: Quarter,
    /// Fiscal label, as written.
    pub fiscal_quarter: Option<String>,
    /// Revenue in RMB bn.
    pub revenue_rmb_bn: Option<f64>,
    /// Reported YoY growth, percent.
    pub yoy_growth_pct: Option<f64>,
    /// Adjusted EBITA, RMB bn.
    pub adj_ebita_rmb_bn: Option<f64>,
    /// Adjusted EBITA margin, percent.
    pub adj_ebita_margin_pct: Option<f64>,
    /// Group capex, RMB bn.
    pub group_capex_rmb_bn: Option<f64>,
    /// Confidence note.
    pub confidence: String,
    /// Sources.
    pub source: String,
    /// 1-based line of the row in its file (for messages about it).
    pub line: u64,
}

/// A validated history: consecutive quarters, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Where it was read from (a path, or `embedded`).
    pub source: String,
    /// The rows, one per quarter, consecutive.
    pub quarters: Vec<ReportedQuarter>,
}

/// Why a history file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The file could not be read.
    #[error("cannot read history file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A cell, a row or the header is wrong.
    #[error("{source_name}, line {line}{}: {message}", column.as_ref().map(|(n, name)| format!(", column {n} (`{name}`)")).unwrap_or_default())]
    Invalid {
        /// The file.
        source_name: String,
        /// 1-based line.
        line: u64,
        /// 1-based column and its header name, when the problem is one cell.
        column: Option<(usize, String)>,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl HistoryError {
    /// The 1-based line of the problem, when there is one.
    pub fn line(&self) -> Option<u64> {
        match self {
            HistoryError::Invalid { line, .. } => Some(*line),
            HistoryError::Read { .. } => None,
        }
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.quarters.first(), self.quarters.last()) {
            (Some(a), Some(b)) => write!(
                f,
                "{} ({} to {}, {} quarters)",
                self.source,
                a.quarter,
                b.quarter,
                self.quarters.len()
            ),
            _ => write!(f, "{} (empty)", self.source),
        }
    }
}

impl History {
    /// Reads and validates a history file.
    ///
    /// # Errors
    ///
    /// [`HistoryError::Read`] if the file cannot be read, is not a regular file (a FIFO, a
    /// device, a directory) or is larger than [`crate::input_file::MAX_HISTORY_BYTES`];
    /// [`HistoryError::Invalid`] naming the line and column of the first problem.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HistoryError> {
        let path = path.as_ref();
        let text = crate::input_file::read_text(
            path,
            crate::input_file::MAX_HISTORY_BYTES,
            "a history file",
        )
        .map_err(|source| HistoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The given file, else [`DEFAULT_PATH`] if it exists, else the embedded copy.
    ///
    /// # Errors
    ///
    /// As [`History::load`].
    pub fn load_or_default(path: Option<&Path>) -> Result<Self, HistoryError> {
        match path {
            Some(path) => Self::load(path),
            None if Path::new(DEFAULT_PATH).is_file() => Self::load(DEFAULT_PATH),
            None => Self::parse("embedded data/alibaba_cloud_quarterly.csv", EMBEDDED),
        }
    }

    /// Parses and validates history text; `source_name` names it in errors.
    ///
    /// # Errors
    ///
    /// [`HistoryError::Invalid`] naming the line and column of the first problem: an
    /// unknown or missing column, a date that is not a quarter end, a quarter out of order,
    /// repeated or missing (a gap), a cell that is neither a number nor `NA`, a value out of
    /// its range, a row with the wrong number of cells.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::history::History;
    /// let text = "quarter_end,cloud_revenue_rmb_bn\n2025-12-31,43.3\n2026-03-31,41.6\n";
    /// let history = History::parse("h.csv", text).unwrap();
    /// assert_eq!(history.quarters.len(), 2);
    /// assert_eq!(history.quarters[1].revenue_rmb_bn, Some(41.6));
    ///
    /// let gap = "quarter_end,cloud_revenue_rmb_bn\n2025-09-30,39.8\n2026-03-31,41.6\n";
    /// let e = History::parse("h.csv", gap).unwrap_err();
    /// assert!(e.to_string().starts_with("h.csv, line 3, column 1 (`quarter_end`)"));
    /// ```
    pub fn parse(source_name: &str, text: &str) -> Result<Self, HistoryError> {
        let invalid =
            |line: u64, column: Option<(usize, &str)>, message: String| HistoryError::Invalid {
                source_name: source_name.to_string(),
                line,
                column: column.map(|(n, name)| (n, name.to_string())),
                message,
            };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let csv_error = |e: csv::Error| {
            let line = e.position().map_or(1, |p| p.line());
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("expected {expected_len} cells like the header, found {len}"),
                csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".to_string(),
                _ => e.to_string(),
            };
            invalid(line, None, message)
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let known: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
        let mut index = [None; COLUMNS.len()];
        for (i, name) in header.iter().enumerate() {
            let Some(k) = known.iter().position(|c| c == name) else {
                return Err(invalid(
                    1,
                    Some((i + 1, name)),
                    format!(
                        "unknown column{}; known columns: {} (units in the names: _rmb_bn, _pct)",
                        suggest_column(name, &known),
                        known.join(", ")
                    ),
                ));
            };
            if index[k].is_some() {
                return Err(invalid(1, Some((i + 1, name)), "repeated column".into()));
            }
            index[k] = Some(i);
        }
        for required in ["quarter_end", "cloud_revenue_rmb_bn"] {
            let k = known.iter().position(|c| *c == required).unwrap();
            if index[k].is_none() {
                return Err(invalid(
                    1,
                    None,
                    format!("missing column `{required}`: {}", COLUMNS[k].1),
                ));
            }
        }
        let cell = |record: &csv::StringRecord, k: usize| -> Option<(usize, String)> {
            index[k].map(|i| (i, record.get(i).unwrap_or("").trim().to_string()))
        };
        let mut quarters: Vec<ReportedQuarter> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let number =
                |k: usize, min: f64, min_inclusive: bool| -> Result<Option<f64>, HistoryError> {
                    let Some((i, text)) = cell(&record, k) else {
                        return Ok(None);
                    };
                    if text == "NA" || text.is_empty() {
                        return Ok(None);
                    }
                    let column = Some((i + 1, COLUMNS[k].0));
                    let value: f64 = text
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite())
                        .ok_or_else(|| {
                            invalid(
                                line,
                                column,
                                format!("expected {} or NA, found `{text}`", COLUMNS[k].1),
                            )
                        })?;
                    let ok = if min_inclusive {
                        value >= min
                    } else {
                        value > min
                    };
                    if !ok {
                        return Err(invalid(
                            line,
                            column,
                            format!("expected {}, found {value}", COLUMNS[k].1),
                        ));
                    }
                    Ok(Some(value))
                };
            let (date_index, date) = cell(&record, 0).expect("required column");
            let quarter = quarter_of_end_date(&date).ok_or_else(|| {
                invalid(
                    line,
                    Some((date_index + 1, "quarter_end")),
                    format!(
                        "expected a quarter's last day as YYYY-MM-DD (03-31, 06-30, 09-30 or 12-31), found `{date}`"
                    ),
                )
            })?;
            if let Some(previous) = quarters.last() {
                let expected = previous.quarter.plus(1);
                if quarter != expected {
                    let what = if quarter == previous.quarter {
                        "repeats the previous row's quarter".to_string()
                    } else if quarter < previous.quarter {
                        format!("is out of order (after {})", previous.quarter.end_date())
                    } else {
                        format!(
                            "leaves a gap: expected {} next (one row per quarter, NA for a missing figure)",
                            expected.end_date()
                        )
                    };
                    return Err(invalid(
                        line,
                        Some((date_index + 1, "quarter_end")),
                        format!("{date} {what}"),
                    ));
                }
            }
            let text_cell = |k: usize| cell(&record, k).map(|(_, t)| t).unwrap_or_default();
            quarters.push(ReportedQuarter {
                quarter,
                fiscal_quarter: cell(&record, 1)
                    .map(|(_, t)| t)
                    .filter(|t| !t.is_empty() && t != "NA"),
                revenue_rmb_bn: number(2, 0.0, false)?,
                yoy_growth_pct: number(3, -100.0, false)?,
                adj_ebita_rmb_bn: number(4, f64::NEG_INFINITY, false)?,
                adj_ebita_margin_pct: number(5, f64::NEG_INFINITY, false)?,
                group_capex_rmb_bn: number(6, 0.0, true)?,
                confidence: text_cell(7),
                source: text_cell(8),
                line,
            });
        }
        if quarters.is_empty() {
            return Err(invalid(
                1,
                None,
                "no quarters: expected one row per reported quarter after the header".into(),
            ));
        }
        Ok(Self {
            source: source_name.to_string(),
            quarters,
        })
    }

    /// The row of `quarter`, if reported.
    pub fn get(&self, quarter: Quarter) -> Option<&ReportedQuarter> {
        let first = self.quarters.first()?.quarter;
        let offset = usize::try_from(quarter.quarters_since(first)).ok()?;
        self.quarters.get(offset)
    }

    /// Revenue of `quarter`, if reported and not `NA`.
    pub fn revenue(&self, quarter: Quarter) -> Option<f64> {
        self.get(quarter).and_then(|r| r.revenue_rmb_bn)
    }

    /// The last quarter with a reported revenue (rows after it may hold `NA` for quarters
    /// not yet reported).
    pub fn last_reported(&self) -> Option<Quarter> {
        self.quarters
            .iter()
            .rev()
            .find(|q| q.revenue_rmb_bn.is_some())
            .map(|q| q.quarter)
    }

    /// The first and last quarters.
    pub fn span(&self) -> (Quarter, Quarter) {
        (
            self.quarters[0].quarter,
            self.quarters[self.quarters.len() - 1].quarter,
        )
    }

    /// The first quarter on the current segment basis: [`SEGMENT_BASIS_START`], or the
    /// history's first quarter if later (where fits and charts start by default).
    pub fn first_on_current_basis(&self) -> Quarter {
        let basis: Quarter = SEGMENT_BASIS_START.parse().expect("a valid quarter");
        self.span().0.max(basis)
    }
}

/// First quarter on the current segment basis (Cloud Intelligence Group from 2023-06-30;
/// earlier rows are the old "Cloud" segment with DingTalk): fits and charts start here by
/// default.
pub const SEGMENT_BASIS_START: &str = "2023Q2";

/// ` (did you mean `x`?)` for a close or a truncated column name.
fn suggest_column(name: &str, known: &[&str]) -> String {
    let close = crate::scenario::did_you_mean(name, known.iter().copied());
    if !close.is_empty() || name.len() < 4 {
        return close;
    }
    known
        .iter()
        .find(|k| k.starts_with(name))
        .map_or_else(String::new, |k| format!(" (did you mean `{k}`?)"))
}

/// The calendar quarter whose last day is `date` (`2026-03-31` → 2026Q1).
fn quarter_of_end_date(date: &str) -> Option<Quarter> {
    let year: i32 = date.get(0..4)?.parse().ok()?;
    let quarter_of_year = match date.get(4..)? {
        "-03-31" => 1,
        "-06-30" => 2,
        "-09-30" => 3,
        "-12-31" => 4,
        _ => return None,
    };
    Quarter::new(year, quarter_of_year).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        History::parse("h.csv", text).unwrap_err().to_string()
    }

    const HEAD: &str = "quarter_end,cloud_revenue_rmb_bn,adj_ebita_rmb_bn\n";

    #[test]
    fn the_shipped_history_parses() {
        let h = History::parse("embedded", EMBEDDED).unwrap();
        assert_eq!(h.span().0.to_string(), "2022Q2");
        assert_eq!(h.revenue("2026Q1".parse().unwrap()), Some(41.6));
        assert_eq!(
            h.get("2025Q4".parse().unwrap()).unwrap().adj_ebita_rmb_bn,
            None
        );
    }

    #[test]
    fn bad_rows_are_located() {
        assert_eq!(
            error(&format!("{HEAD}2025-12-31,43.3,1\n2025-12-31,41.6,1\n")),
            "h.csv, line 3, column 1 (`quarter_end`): 2025-12-31 repeats the previous row's quarter"
        );
        assert!(error(&format!("{HEAD}2025-12-31,4x,1\n")).starts_with(
            "h.csv, line 2, column 2 (`cloud_revenue_rmb_bn`): expected Cloud Intelligence"
        ));
        assert!(
            error(&format!("{HEAD}2025-12-30,43,1\n"))
                .contains("column 1 (`quarter_end`): expected a quarter's last day")
        );
        assert!(error(&format!("{HEAD}2025-12-31,-4,1\n")).contains("greater than 0, found -4"));
        assert!(
            error(&format!("{HEAD}2025-12-31,43\n")).starts_with("h.csv, line 2: expected 3 cells")
        );
        assert!(error("quarter_end,cloud_revenu_rmb_bn\n").contains(
            "column 2 (`cloud_revenu_rmb_bn`): unknown column (did you mean `cloud_revenue_rmb_bn`?)"
        ));
        assert!(
            error("quarter_end,adj_ebita_rmb_bn\n")
                .contains("missing column `cloud_revenue_rmb_bn`")
        );
        assert!(
            error(&format!("{HEAD}2026-03-31,41.6,1\n2025-12-31,43.3,1\n"))
                .contains("out of order")
        );
        assert!(error(HEAD).contains("no quarters"));
    }

    #[test]
    fn na_is_missing() {
        let h = History::parse(
            "h.csv",
            &format!("{HEAD}2025-12-31,NA,NA\n2026-03-31,41.6,\n"),
        )
        .unwrap();
        assert_eq!(h.quarters[0].revenue_rmb_bn, None);
        assert_eq!(h.quarters[1].adj_ebita_rmb_bn, None);
    }
}
