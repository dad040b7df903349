//! The tables as Parquet (`--format parquet`, cargo feature `parquet`): the same rows and
//! columns as the CSVs, typed (categorical text as dictionaries, quarter ends as
//! `date32`, counts and indices as `int64`, undefined values as nulls), and the provenance
//! (seed, scenario hash, crate version) as file metadata instead of repeated columns.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int64Array, RecordBatch,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{CRATE_VERSION, Exporter, RunRecord};
use crate::stats::{QUANTILE_NAMES, ScalarSummary, Summary};

/// Rows per record batch of the long tables, so memory stays bounded as paths grow.
const BATCH_ROWS: usize = 65_536;

/// A column's type.
#[derive(Clone, Copy)]
enum Kind {
    /// Text with few distinct values: a dictionary (pandas `category`).
    Category,
    /// A count or index, never null.
    Count,
    /// An integer that may be undefined.
    OptionalInt,
    /// A number, null where undefined.
    Number,
    /// A calendar date.
    Date,
    /// A yes/no that may be undefined.
    OptionalBool,
}

fn field(name: &str, kind: Kind) -> Field {
    match kind {
        Kind::Category => Field::new(
            name,
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            false,
        ),
        Kind::Count => Field::new(name, DataType::Int64, false),
        Kind::OptionalInt => Field::new(name, DataType::Int64, true),
        Kind::Number => Field::new(name, DataType::Float64, true),
        Kind::Date => Field::new(name, DataType::Date32, false),
        Kind::OptionalBool => Field::new(name, DataType::Boolean, true),
    }
}

fn schema(columns: &[(&str, Kind)]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, kind)| field(name, *kind))
            .collect::<Vec<_>>(),
    ))
}

fn category<'a>(values: impl IntoIterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<DictionaryArray<Int32Type>>())
}

fn counts(values: impl IntoIterator<Item = u64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(
        values
            .into_iter()
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
    ))
}

/// Non-finite values (the CSVs' empty cells) become nulls.
fn numbers(values: impl IntoIterator<Item = f64>) -> ArrayRef {
    Arc::new(
        values
            .into_iter()
            .map(|v| v.is_finite().then_some(v))
            .collect::<Float64Array>(),
    )
}

/// Whole numbers stored as f64 (NaN: undefined) as nullable integers.
fn optional_ints(values: impl IntoIterator<Item = f64>) -> ArrayRef {
    Arc::new(
        values
            .into_iter()
            .map(|v| v.is_finite().then_some(v as i64))
            .collect::<Int64Array>(),
    )
}

fn dates(values: impl IntoIterator<Item = i32>) -> ArrayRef {
    Arc::new(Date32Array::from_iter_values(values))
}

fn parquet_error(e: parquet::errors::ParquetError) -> io::Error {
    match e {
        parquet::errors::ParquetError::External(inner) => io::Error::other(inner),
        other => io::Error::other(other.to_string()),
    }
}

fn arrow_error(e: arrow_schema::ArrowError) -> io::Error {
    io::Error::other(e.to_string())
}

/// A Parquet file being written: Snappy-compressed (pandas' default codec), the run's
/// provenance in the file's key-value metadata.
struct Table<'w> {
    schema: SchemaRef,
    writer: ArrowWriter<&'w mut (dyn Write + Send)>,
}

impl<'w> Table<'w> {
    fn new(
        out: &'w mut (dyn Write + Send),
        run: &RunRecord<'_>,
        columns: &[(&str, Kind)],
    ) -> io::Result<Self> {
        let schema = schema(columns);
        let metadata = [
            ("seed", run.results.seed.to_string()),
            ("scenario_sha256", run.results.scenario_sha256.clone()),
            ("cloudcapex_version", CRATE_VERSION.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v))
        .collect();
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            // Row groups of one batch: the writer buffers a row group, so memory stays
            // bounded (a million-row group of drivers.parquet held 40% more than the CSV).
            .set_max_row_group_row_count(Some(BATCH_ROWS))
            .set_key_value_metadata(Some(metadata))
            .build();
        let writer =
            ArrowWriter::try_new(out, schema.clone(), Some(properties)).map_err(parquet_error)?;
        Ok(Table { schema, writer })
    }

    fn write(&mut self, columns: Vec<ArrayRef>) -> io::Result<()> {
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(arrow_error)?;
        self.writer.write(&batch).map_err(parquet_error)
    }

    fn close(self) -> io::Result<()> {
        self.writer.close().map(|_| ()).map_err(parquet_error)
    }
}

/// The statistic columns shared by `quarterly` and `summary`.
fn stat_columns() -> Vec<(&'static str, Kind)> {
    let mut c = vec![
        ("count", Kind::Count),
        ("mean", Kind::Number),
        ("sd", Kind::Number),
        ("se", Kind::Number),
    ];
    c.extend(QUANTILE_NAMES.iter().map(|q| (*q, Kind::Number)));
    c
}

/// The statistic arrays of `summaries` (a missing summary: count 0, the rest null).
fn stat_arrays(summaries: &[Option<&Summary>]) -> Vec<ArrayRef> {
    let get =
        |f: &dyn Fn(&Summary) -> f64| numbers(summaries.iter().map(|s| s.map_or(f64::NAN, f)));
    let mut arrays = vec![
        counts(summaries.iter().map(|s| s.map_or(0, |s| s.count))),
        get(&|s| s.mean),
        get(&|s| s.sd),
        get(&|s| s.se),
    ];
    arrays.extend((0..QUANTILE_NAMES.len()).map(|q| get(&|s| s.quantiles[q])));
    arrays
}

/// `quarterly.parquet`: [`super::QuarterlyCsv`]'s rows, typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuarterlyParquet;

impl Exporter for QuarterlyParquet {
    fn file_name(&self) -> &'static str {
        "quarterly.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let mut columns = vec![
            ("scenario", Kind::Category),
            ("quarter_index", Kind::Count),
            ("quarter_label", Kind::Category),
            ("quarter_end", Kind::Date),
            ("metric", Kind::Category),
        ];
        columns.extend(stat_columns());
        let mut table = Table::new(out, run, &columns)?;
        for chunk in results.quarterly.chunks(BATCH_ROWS) {
            let labels: Vec<String> = chunk.iter().map(|s| s.quarter.label()).collect();
            let mut arrays = vec![
                category(chunk.iter().map(|_| results.scenario.as_str())),
                counts(chunk.iter().map(|s| s.quarter_index as u64)),
                category(labels.iter().map(String::as_str)),
                dates(chunk.iter().map(|s| s.quarter.end_days_since_epoch())),
                category(chunk.iter().map(|s| s.metric.as_str())),
            ];
            let summaries: Vec<Option<&Summary>> =
                chunk.iter().map(|s| s.summary.as_ref()).collect();
            arrays.extend(stat_arrays(&summaries));
            table.write(arrays)?;
        }
        table.close()
    }
}

/// `summary.parquet`: [`super::SummaryCsv`]'s rows, typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct SummaryParquet;

impl Exporter for SummaryParquet {
    fn file_name(&self) -> &'static str {
        "summary.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let mut columns = vec![("scenario", Kind::Category), ("metric", Kind::Category)];
        columns.extend(stat_columns());
        columns.extend([
            ("missing", Kind::Count),
            ("prob_negative", Kind::Number),
            ("prob_negative_se", Kind::Number),
            ("cvar5", Kind::Number),
            ("cvar5_se", Kind::Number),
            ("quantiles", Kind::Category),
        ]);
        let mut table = Table::new(out, run, &columns)?;
        let rows = &results.scalars;
        let stats = |f: fn(&ScalarSummary) -> f64| numbers(rows.iter().map(|(_, s)| f(s)));
        let mut arrays = vec![
            category(rows.iter().map(|_| results.scenario.as_str())),
            category(rows.iter().map(|(m, _)| m.as_str())),
        ];
        let summaries: Vec<Option<&Summary>> =
            rows.iter().map(|(_, s)| s.summary.as_ref()).collect();
        arrays.extend(stat_arrays(&summaries));
        arrays.extend([
            counts(rows.iter().map(|(_, s)| s.missing)),
            stats(|s| s.prob_negative),
            stats(|s| s.prob_negative_se),
            stats(|s| s.cvar5),
            stats(|s| s.cvar5_se),
            category(
                rows.iter()
                    .map(|(_, s)| if s.exact { "exact" } else { "sketch" }),
            ),
        ]);
        table.write(arrays)?;
        table.close()
    }
}

/// `convergence.parquet`: [`super::ConvergenceCsv`]'s rows, typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConvergenceParquet;

impl Exporter for ConvergenceParquet {
    fn file_name(&self) -> &'static str {
        "convergence.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let columns = [
            ("scenario", Kind::Category),
            ("metric", Kind::Category),
            ("paths", Kind::Count),
            ("count", Kind::Count),
            ("mean", Kind::Number),
            ("se", Kind::Number),
        ];
        let mut table = Table::new(out, run, &columns)?;
        let rows = super::csv_files::convergence_rows(run.results);
        for chunk in rows.chunks(BATCH_ROWS) {
            table.write(vec![
                category(chunk.iter().map(|_| run.results.scenario.as_str())),
                category(chunk.iter().map(|r| r.metric)),
                counts(chunk.iter().map(|r| r.paths)),
                counts(chunk.iter().map(|r| r.count)),
                numbers(chunk.iter().map(|r| r.mean)),
                numbers(chunk.iter().map(|r| r.se)),
            ])?;
        }
        table.close()
    }
}

/// `paths.parquet`: [`super::PathsCsv`]'s rows (the kept paths' quarterly values, long
/// format), typed, written a batch of rows at a time.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathsParquet;

impl Exporter for PathsParquet {
    fn file_name(&self) -> &'static str {
        "paths.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let columns = [
            ("scenario", Kind::Category),
            ("path", Kind::Count),
            ("quarter_index", Kind::Count),
            ("quarter_label", Kind::Category),
            ("quarter_end", Kind::Date),
            ("metric", Kind::Category),
            ("value", Kind::Number),
        ];
        let mut table = Table::new(out, run, &columns)?;
        let labels: Vec<String> = results.calendar.iter().map(|q| q.label()).collect();
        let ends: Vec<i32> = results
            .calendar
            .iter()
            .map(|q| q.end_days_since_epoch())
            .collect();
        let cells = results.quarterly_metrics.len() * results.quarters;
        let paths_per_batch = (BATCH_ROWS / cells.max(1)).max(1);
        for chunk in results.kept_paths.chunks(paths_per_batch) {
            // Row order as paths.csv: path, then metric, then quarter.
            let rows = || {
                chunk.iter().flat_map(move |record| {
                    (0..cells)
                        .map(move |cell| (record, cell / results.quarters, cell % results.quarters))
                })
            };
            table.write(vec![
                category(rows().map(|_| results.scenario.as_str())),
                counts(rows().map(|(r, _, _)| r.path)),
                counts(rows().map(|(_, _, t)| t as u64)),
                category(rows().map(|(_, _, t)| labels[t].as_str())),
                dates(rows().map(|(_, _, t)| ends[t])),
                category(rows().map(|(_, m, _)| results.quarterly_metrics[m].as_str())),
                numbers(rows().map(|(r, m, t)| r.values[m * results.quarters + t])),
            ])?;
        }
        table.close()
    }
}

/// `path_scalars.parquet`: [`super::PathScalarsCsv`]'s rows, typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathScalarsParquet;

impl Exporter for PathScalarsParquet {
    fn file_name(&self) -> &'static str {
        "path_scalars.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let columns = [
            ("scenario", Kind::Category),
            ("path", Kind::Count),
            ("metric", Kind::Category),
            ("value", Kind::Number),
        ];
        let mut table = Table::new(out, run, &columns)?;
        let metrics = results.scalars.len().max(1);
        for chunk in results.kept_paths.chunks((BATCH_ROWS / metrics).max(1)) {
            let rows = || {
                chunk
                    .iter()
                    .flat_map(|r| (0..results.scalars.len()).map(move |m| (r, m)))
            };
            table.write(vec![
                category(rows().map(|_| results.scenario.as_str())),
                counts(rows().map(|(r, _)| r.path)),
                category(rows().map(|(_, m)| results.scalars[m].0.as_str())),
                numbers(rows().map(|(r, m)| r.scalars[m])),
            ])?;
        }
        table.close()
    }
}

/// `drivers.parquet`: [`super::DriversCsv`]'s wide rows, typed (event firing counts and
/// first quarters as integers, null where an event never fired).
#[derive(Clone, Copy, Debug, Default)]
pub struct DriversParquet {
    /// Every path rather than the kept ones.
    pub all: bool,
}

impl Exporter for DriversParquet {
    fn file_name(&self) -> &'static str {
        "drivers.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let drivers = super::csv_files::DriversTable::new(run, self.all);
        let kind = |name: &str| {
            if name.ends_with(".firings") || name.ends_with(".first_quarter_index") {
                Kind::OptionalInt
            } else {
                Kind::Number
            }
        };
        let mut columns = vec![("scenario", Kind::Category), ("path", Kind::Count)];
        columns.extend(drivers.names.iter().map(|n| (n.as_str(), kind(n))));
        columns.extend(drivers.outputs.iter().map(|(n, _)| (*n, Kind::Number)));
        let mut table = Table::new(out, run, &columns)?;
        let paths = drivers.rows.len();
        for start in (0..paths).step_by(BATCH_ROWS) {
            let rows = start..(start + BATCH_ROWS).min(paths);
            let mut arrays = vec![
                category(rows.clone().map(|_| run.results.scenario.as_str())),
                counts(rows.clone().map(|p| p as u64)),
            ];
            for (c, name) in drivers.names.iter().enumerate() {
                let values = rows.clone().map(|p| drivers.rows[p][c]);
                arrays.push(match kind(name) {
                    Kind::OptionalInt => optional_ints(values),
                    _ => numbers(values),
                });
            }
            for (_, values) in &drivers.outputs {
                arrays.push(numbers(rows.clone().map(|p| values[p])));
            }
            table.write(arrays)?;
        }
        table.close()
    }
}

/// `fiscal_years.parquet`: [`super::FiscalYearsCsv`]'s rows, typed (`fiscal_year` an
/// integer, `last_quarter_end` a date).
#[derive(Clone, Copy, Debug, Default)]
pub struct FiscalYearsParquet;

impl Exporter for FiscalYearsParquet {
    fn file_name(&self) -> &'static str {
        "fiscal_years.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let mut columns = vec![
            ("scenario", Kind::Category),
            ("fiscal_year", Kind::Count),
            ("fiscal_year_label", Kind::Category),
            ("first_quarter", Kind::Category),
            ("last_quarter_end", Kind::Date),
            ("world", Kind::Category),
            ("metric", Kind::Category),
        ];
        columns.extend(stat_columns());
        columns.extend([("missing", Kind::Count), ("quantiles", Kind::Category)]);
        let mut table = Table::new(out, run, &columns)?;
        let rows = &results.fiscal_years;
        let spans: Vec<(String, String, i32)> = rows
            .iter()
            .map(|r| {
                let (label, first, _) = super::csv_files::fiscal_year_span(r.key.fiscal_year);
                (label, first.label(), first.plus(3).end_days_since_epoch())
            })
            .collect();
        let mut arrays = vec![
            category(rows.iter().map(|_| results.scenario.as_str())),
            counts(rows.iter().map(|r| r.key.fiscal_year as u64)),
            category(spans.iter().map(|s| s.0.as_str())),
            category(spans.iter().map(|s| s.1.as_str())),
            dates(spans.iter().map(|s| s.2)),
            category(rows.iter().map(|r| r.key.world)),
            category(rows.iter().map(|r| r.key.metric.as_str())),
        ];
        let summaries: Vec<Option<&Summary>> =
            rows.iter().map(|r| r.stats.summary.as_ref()).collect();
        arrays.extend(stat_arrays(&summaries));
        arrays.extend([
            counts(rows.iter().map(|r| r.stats.missing)),
            category(
                rows.iter()
                    .map(|r| if r.stats.exact { "exact" } else { "sketch" }),
            ),
        ]);
        table.write(arrays)?;
        table.close()
    }
}

/// `consensus.parquet`: [`super::ConsensusCsv`]'s rows, typed (open ends and figures the
/// model has no value for as nulls, `anchor_within_model_p5_p95` a nullable boolean).
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsensusParquet;

impl Exporter for ConsensusParquet {
    fn file_name(&self) -> &'static str {
        "consensus.parquet"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let columns: Vec<(&str, Kind)> = super::csv_files::CONSENSUS_COLUMNS
            .iter()
            .map(|&name| {
                let kind = match name {
                    "fiscal_year" | "model_count" => Kind::Count,
                    "anchor_within_model_p5_p95" => Kind::OptionalBool,
                    n if n.starts_with("anchor_") || n.starts_with("model_") => {
                        if n == "model_quantiles" || n == "model_median_vs_anchor" {
                            Kind::Category
                        } else {
                            Kind::Number
                        }
                    }
                    _ => Kind::Category,
                };
                (name, kind)
            })
            .collect();
        let mut table = Table::new(out, run, &columns)?;
        let rows =
            super::consensus::consensus_rows(&run.scenario.assumptions().consensus, run.results);
        let summaries: Vec<Option<&Summary>> = rows
            .iter()
            .map(|r| r.model.and_then(|m| m.stats.summary.as_ref()))
            .collect();
        let stat =
            |f: fn(&Summary) -> f64| numbers(summaries.iter().map(|s| s.map_or(f64::NAN, f)));
        let labels: Vec<String> = rows
            .iter()
            .map(|r| super::csv_files::fiscal_year_span(r.anchor.fiscal_year).0)
            .collect();
        let arrays = vec![
            category(rows.iter().map(|_| run.results.scenario.as_str())),
            category(rows.iter().map(|r| r.anchor.name.as_str())),
            counts(rows.iter().map(|r| r.anchor.fiscal_year as u64)),
            category(labels.iter().map(String::as_str)),
            category(rows.iter().map(|r| r.anchor.world.as_str())),
            category(rows.iter().map(|r| r.anchor.metric.as_str())),
            numbers(rows.iter().map(|r| r.anchor.low.unwrap_or(f64::NAN))),
            numbers(rows.iter().map(|r| r.anchor.high.unwrap_or(f64::NAN))),
            category(rows.iter().map(|r| r.anchor.source.as_str())),
            category(rows.iter().map(|r| r.anchor.date.as_str())),
            category(rows.iter().map(|r| r.anchor.note.as_str())),
            counts(summaries.iter().map(|s| s.map_or(0, |s| s.count))),
            stat(|s| s.mean),
            stat(|s| s.se),
            stat(|s| s.quantiles[1]),
            stat(|s| s.quantiles[4]),
            stat(|s| s.quantiles[7]),
            category(rows.iter().map(|r| {
                r.model
                    .map_or("", |m| if m.stats.exact { "exact" } else { "sketch" })
            })),
            category(rows.iter().map(|r| r.median_position().unwrap_or(""))),
            Arc::new(
                rows.iter()
                    .map(|r| r.within_90pct_band())
                    .collect::<BooleanArray>(),
            ),
        ];
        table.write(arrays)?;
        table.close()
    }
}
