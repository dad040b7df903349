//! Evaluate the finance primitives on cash-flow vectors read as JSON lines from stdin, one
//! JSON line of results per input line on stdout: the way to check `cloudcapex::finance`
//! against another library (tests/python/finance_differential.py does, against
//! numpy-financial and pyxirr).
//!
//! `echo '{"flows": [-100, 60, 60], "rate": 0.1, "finance_rate": 0.1, "reinvest_rate": 0.12}' \
//!   | cargo run --release --example finance_batch`
//!
//! Input keys: `flows` (required), `dates` (`[[year, month, day], ...]`, for `xirr`/`xnpv`),
//! `rate` (for `npv`/`xnpv`), `finance_rate` and `reinvest_rate` (for `mirr`). Output keys:
//! `irr` / `xirr` as `{"kind": "unique" | "multiple" | "no_root" | "indeterminate",
//! "roots": [...]}`, `npv`, `xnpv`, `mirr` as a number, `null` (undefined) or
//! `{"error": "..."}`.

use std::io::{BufRead, Write};

use cloudcapex::finance::{self, FinanceError, Irr};
use cloudcapex::time::Date;
use serde_json::{Value, json};

fn irr_json(irr: Result<Irr, FinanceError>) -> Value {
    match irr {
        Ok(Irr::Unique(r)) => json!({"kind": "unique", "roots": [r]}),
        Ok(Irr::Multiple(roots)) => json!({"kind": "multiple", "roots": roots}),
        Ok(Irr::NoRoot) => json!({"kind": "no_root", "roots": []}),
        Ok(Irr::Indeterminate) => json!({"kind": "indeterminate", "roots": []}),
        Ok(other) => json!({"kind": format!("{other:?}")}),
        Err(e) => json!({"error": e.to_string()}),
    }
}

fn number_json(value: Result<Option<f64>, FinanceError>) -> Value {
    match value {
        Ok(Some(v)) => json!(v),
        Ok(None) => Value::Null,
        Err(e) => json!({"error": e.to_string()}),
    }
}

fn main() -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (line_number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let input: Value = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("line {}: {e}", line_number + 1))?;
        let flows: Vec<f64> = serde_json::from_value(input["flows"].clone())
            .map_err(|e| anyhow::anyhow!("line {}: flows: {e}", line_number + 1))?;
        let mut result = serde_json::Map::new();
        result.insert("irr".into(), irr_json(finance::irr(&flows)));
        let rate = input["rate"].as_f64();
        if let Some(rate) = rate {
            result.insert(
                "npv".into(),
                number_json(finance::npv(rate, &flows).map(Some)),
            );
        }
        if let (Some(f), Some(r)) = (
            input["finance_rate"].as_f64(),
            input["reinvest_rate"].as_f64(),
        ) {
            result.insert("mirr".into(), number_json(finance::mirr(&flows, f, r)));
        }
        if let Some(dates) = input["dates"].as_array() {
            let dates = dates
                .iter()
                .map(|d| {
                    let part = |i: usize| d[i].as_i64().unwrap_or(-1);
                    let (year, month, day) = (
                        i32::try_from(part(0)),
                        u8::try_from(part(1)),
                        u8::try_from(part(2)),
                    );
                    match (year, month, day) {
                        (Ok(y), Ok(m), Ok(d)) => Date::new(y, m, d).map_err(|e| e.to_string()),
                        _ => Err(format!("{d} is not [year, month, day]")),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("line {}: dates: {e}", line_number + 1))?;
            result.insert("xirr".into(), irr_json(finance::xirr(&flows, &dates)));
            if let Some(rate) = rate {
                result.insert(
                    "xnpv".into(),
                    number_json(finance::xnpv(rate, &flows, &dates).map(Some)),
                );
            }
        }
        writeln!(out, "{}", Value::Object(result))?;
    }
    out.flush()?;
    Ok(())
}
