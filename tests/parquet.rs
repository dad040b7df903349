//! `run --format parquet` (cargo feature `parquet`): every table as Parquet holds the CSV's
//! rows and values exactly, with the promised column types and the provenance in the
//! file metadata, and the files are byte-identical on any thread count.
//!
//! Run: cargo test --release --features parquet --test parquet
#![cfg(feature = "parquet")]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use assert_cmd::Command;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const TABLES: [&str; 8] = [
    "quarterly",
    "summary",
    "convergence",
    "fiscal_years",
    "consensus",
    "paths",
    "path_scalars",
    "drivers",
];
const PROVENANCE: [&str; 3] = ["seed", "scenario_sha256", "cloudcapex_version"];

fn run(out: &Path, threads: &str, format: &str) {
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .args(["run", "--paths", "3000", "--paths-out", "12", "--drivers"])
        .args(["--quiet", "--threads", threads, "--format", format, "--out"])
        .arg(out)
        .assert()
        .success();
}

/// A Parquet file's batches and its key-value metadata.
fn read(path: &Path) -> (Vec<RecordBatch>, BTreeMap<String, String>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .filter(|kv| kv.key != "ARROW:schema")
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap()))
        .collect();
    let batches = builder.build().unwrap().map(Result::unwrap).collect();
    (batches, metadata)
}

/// One cell as the CSV writes it (empty for a null).
fn cell(column: &dyn Array, row: usize) -> String {
    if column.is_null(row) {
        return String::new();
    }
    match column.data_type() {
        DataType::Dictionary(_, _) => {
            let dictionary = column.as_dictionary::<Int32Type>();
            let values = dictionary.values().as_string::<i32>();
            values
                .value(dictionary.keys().value(row) as usize)
                .to_string()
        }
        DataType::Int64 => column.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Boolean => column.as_boolean().value(row).to_string(),
        DataType::Float64 => format!("{}", column.as_primitive::<Float64Type>().value(row)),
        DataType::Date32 => column
            .as_primitive::<Date32Type>()
            .value_as_date(row)
            .unwrap()
            .to_string(),
        other => panic!("unexpected column type {other}"),
    }
}

#[test]
fn every_table_as_parquet_holds_the_csv_values() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), "2", "csv,parquet");
    let base = dir.path().join("base");
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("run.json")).unwrap()).unwrap();
    let listed = listed["outputs"].to_string();
    for table in TABLES {
        assert!(listed.contains(&format!("{table}.parquet")), "{listed}");
        let (batches, metadata) = read(&base.join(format!("{table}.parquet")));
        let mut csv = csv::Reader::from_path(base.join(format!("{table}.csv"))).unwrap();
        let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();

        // Provenance: file metadata instead of the CSV's last three columns.
        let n = header.len() - PROVENANCE.len();
        assert_eq!(header[n..], PROVENANCE);
        for (k, key) in PROVENANCE.iter().enumerate() {
            assert_eq!(metadata[*key], rows[0][n + k], "{table}: {key}");
        }
        let schema = batches[0].schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, header[..n], "{table}: columns");

        let parquet_rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(parquet_rows, rows.len(), "{table}: rows");
        let mut r = 0;
        for batch in &batches {
            for row in 0..batch.num_rows() {
                for c in 0..n {
                    assert_eq!(
                        cell(batch.column(c).as_ref(), row),
                        rows[r][c],
                        "{table}: row {r}, column {}",
                        header[c]
                    );
                }
                r += 1;
            }
        }

        // The promised types.
        for (column, expected) in [
            ("scenario", "Dictionary(Int32, Utf8)"),
            ("metric", "Dictionary(Int32, Utf8)"),
            ("quarter_end", "Date32"),
            ("quarter_index", "Int64"),
            ("count", "Int64"),
            ("path", "Int64"),
            ("value", "Float64"),
            ("mean", "Float64"),
            ("quantiles", "Dictionary(Int32, Utf8)"),
            ("risk.events.price_war.firings", "Int64"),
            ("plan_npv_rmb_bn", "Float64"),
        ] {
            if let Ok(field) = schema.field_with_name(column) {
                assert_eq!(
                    format!("{:?}", field.data_type()),
                    expected,
                    "{table}: {column}"
                );
            }
        }
    }
}

/// Parquet only writes no CSV tables, and its bytes do not depend on the thread count.
#[test]
fn parquet_bytes_do_not_depend_on_threads_and_csv_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run(&one, "1", "parquet");
    run(&two, "2", "csv,parquet");
    for table in TABLES {
        let name = format!("base/{table}.parquet");
        assert_eq!(
            std::fs::read(one.join(&name)).unwrap(),
            std::fs::read(two.join(&name)).unwrap(),
            "{name}"
        );
        assert!(!one.join(format!("base/{table}.csv")).exists());
    }
    assert!(one.join("base/scenario.toml").exists());
}

/// With Parquet only, report.html links the Parquet tables, not absent CSVs.
#[test]
fn the_report_links_the_tables_written() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "run", "--paths", "500", "--report", "--format", "parquet", "--quiet", "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let page = std::fs::read_to_string(dir.path().join("base/report.html")).unwrap();
    for table in ["summary", "quarterly", "convergence"] {
        assert!(
            page.contains(&format!("href=\"{table}.parquet\"")),
            "{table}"
        );
        assert!(!page.contains(&format!("href=\"{table}.csv\"")), "{table}");
    }
}
