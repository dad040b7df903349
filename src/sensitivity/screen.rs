//! One-at-a-time screening of **every** numeric input of a scenario, fixed or drawn
//! (docs/model.md, "Screening every input"): no constant hides from the sensitivity
//! analysis because it was written as a number.
//!
//! Each input is moved to the two ends of a stated range while every other input keeps its
//! value (or its distribution), on common random numbers (the same seed and paths for
//! every case), and the metric's mean and `P(metric < 0)` are taken at each end. A drawn
//! input's range is its distribution's p5 to p95 (its documented plausible range); a fixed
//! number's is `± share` of its value (default 20%), rounded for integers. Inputs in a
//! group that must keep its sum (seasonal factors average 1, asset shares and initial
//! regime probabilities sum to 1, as does each row of the transition matrix) move with
//! the rest of their group rescaled in proportion. An end the scenario's validation
//! refuses is moved halfway back, up to three times, and the row says so.

use rayon::prelude::*;

use crate::{Override, Scenario, ScenarioError};

/// Whether an input is a number in the file or a distribution drawn per path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A number: screened at `± share` of its value.
    Fixed,
    /// A distribution: screened at its p5 and p95.
    Drawn,
}

impl InputKind {
    /// `fixed` or `drawn`.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Fixed => "fixed",
            InputKind::Drawn => "drawn",
        }
    }
}

/// One input to screen.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenInput {
    /// Key path, as `--set` takes it.
    pub key: String,
    /// Fixed or drawn.
    pub kind: InputKind,
    /// The value in the file (a drawn input's median).
    pub base: f64,
    /// Low and high ends before any shrinking.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// Whether the value must be an integer.
    pub integer: bool,
    /// The other members of its sum-constrained group and their values.
    pub group: Vec<(String, f64)>,
    /// Whether the range is the scenario's own (`[screen.ranges]`) rather than the
    /// default move.
    pub documented: bool,
}

impl ScreenInput {
    /// The overrides that put this input at `value`, its group rescaled to keep its sum.
    pub fn overrides(&self, value: f64) -> Vec<String> {
        let mut out = vec![format!("{}={}", self.key, number(value, self.integer))];
        if !self.group.is_empty() {
            let others: f64 = self.group.iter().map(|(_, v)| v).sum();
            let scale = if others > 0.0 {
                (others + self.base - value) / others
            } else {
                1.0
            };
            for (key, v) in &self.group {
                out.push(format!("{key}={}", v * scale));
            }
        }
        out
    }
}

fn number(value: f64, integer: bool) -> String {
    if integer {
        format!("{}", value.round() as i64)
    } else {
        // Debug keeps a decimal point, so TOML reads a float.
        format!("{value:?}")
    }
}

/// Key prefixes that are settings of the run, not assumptions: the run's settings, the
/// rank correlations between assumptions (their keys are key paths, which `--set` cannot
/// name; they are structure of the uncertainty, screened through the inputs they pair),
/// and the published figures the outputs are set beside (they change no number).
const NOT_INPUTS: [&str; 4] = ["simulation.", "time.", "correlation.", "consensus."];

/// Whether `key` belongs to a group with a fixed sum, and the group's parent table and
/// member pattern: its siblings in the same table (seasonal factors; the transition row)
/// or the same field of sibling tables (asset shares; initial regime probabilities).
fn group_of(key: &str) -> Option<GroupRule> {
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["revenue", "seasonality", _] => Some(GroupRule::Siblings),
        ["risk", "regimes", _, "transition", _] => Some(GroupRule::Siblings),
        ["plan", "assets", _, "share"] => Some(GroupRule::Cousins),
        ["risk", "regimes", _, "initial_probability"] => Some(GroupRule::Cousins),
        _ => None,
    }
}

enum GroupRule {
    /// Other keys of the same table.
    Siblings,
    /// The same field in the other tables of the grandparent.
    Cousins,
}

/// Every numeric input of `scenario` with its range: the numbers of its resolved file
/// (outside `[simulation]` and `[time]`) and its uncertain assumptions, including event
/// severities; `share` is the relative move of fixed numbers. Ordered by key.
///
/// # Errors
///
/// [`ScenarioError`] if the share is not in (0, 1) or the resolved file does not parse.
///
/// # Examples
///
/// ```
/// use cloudcapex::Scenario;
/// use cloudcapex::sensitivity::screen::{InputKind, screen_inputs};
/// let s = Scenario::default_scenario();
/// let inputs = screen_inputs(&s, 0.2).unwrap();
/// let half_life = inputs
///     .iter()
///     .find(|i| i.key == "investment.premium_half_life_quarters")
///     .unwrap();
/// assert_eq!(half_life.kind, InputKind::Fixed);
/// assert!((half_life.low - 0.8 * half_life.base).abs() < 1e-12);
/// assert!(inputs.iter().any(|i| i.kind == InputKind::Drawn));
/// ```
pub fn screen_inputs(scenario: &Scenario, share: f64) -> Result<Vec<ScreenInput>, ScenarioError> {
    if !(share > 0.0 && share < 1.0) {
        return Err(ScenarioError::BadOverride {
            argument: format!("--share {share}"),
            message: "the relative move of fixed inputs must be greater than 0 and below 1".into(),
        });
    }
    let table: toml::Table = scenario
        .resolved_toml()
        .parse()
        .map_err(|e: toml::de::Error| ScenarioError::BadOverride {
            argument: "the resolved scenario".into(),
            message: e.to_string(),
        })?;
    let mut leaves: Vec<(String, f64, bool)> = Vec::new();
    collect_numbers(&table, "", &mut leaves);
    let value_of = |key: &str| leaves.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| *v);
    let drawn = crate::model::Model::new(scenario).uncertain_distributions();
    let ranges = &scenario.assumptions().screen.ranges;
    let documented_range = |key: &str| ranges.get(key).copied();
    let mut inputs = Vec::new();
    for (key, value, integer) in &leaves {
        if NOT_INPUTS.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        // Ordered ends, so a negative input's `low` is below its `high` too.
        let (a, b) = (value * (1.0 - share), value * (1.0 + share));
        let (mut low, mut high) = (a.min(b), a.max(b));
        if *integer {
            low = low.round().min(value - 1.0).max(0.0);
            high = high.round().max(value + 1.0);
        }
        let group = match group_of(key) {
            None => Vec::new(),
            Some(rule) => {
                let (parent, field) = key.rsplit_once('.').expect("a dotted key");
                let members: Vec<String> = match rule {
                    GroupRule::Siblings => leaves
                        .iter()
                        .filter(|(k, _, _)| k.rsplit_once('.').is_some_and(|(p, _)| p == parent))
                        .map(|(k, _, _)| k.clone())
                        .collect(),
                    GroupRule::Cousins => {
                        let grandparent = parent.rsplit_once('.').expect("a nested key").0;
                        leaves
                            .iter()
                            .filter(|(k, _, _)| {
                                k.ends_with(&format!(".{field}"))
                                    && k.strip_suffix(&format!(".{field}"))
                                        .and_then(|p| p.rsplit_once('.'))
                                        .is_some_and(|(g, _)| g == grandparent)
                            })
                            .map(|(k, _, _)| k.clone())
                            .collect()
                    }
                };
                members
                    .into_iter()
                    .filter(|k| k != key)
                    .filter_map(|k| value_of(&k).map(|v| (k, v)))
                    .collect()
            }
        };
        let documented = documented_range(key);
        inputs.push(ScreenInput {
            key: key.clone(),
            kind: InputKind::Fixed,
            base: *value,
            low: documented.map_or(low, |r| r[0]),
            high: documented.map_or(high, |r| r[1]),
            integer: *integer,
            group,
            documented: documented.is_some(),
        });
    }
    for (key, distribution) in drawn {
        let documented = documented_range(&key);
        inputs.push(ScreenInput {
            base: distribution.quantile(0.5),
            low: documented.map_or(distribution.quantile(0.05), |r| r[0]),
            high: documented.map_or(distribution.quantile(0.95), |r| r[1]),
            kind: InputKind::Drawn,
            integer: false,
            group: Vec::new(),
            documented: documented.is_some(),
            key,
        });
    }
    inputs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(inputs)
}

/// Numbers of a TOML table by dotted key (integers flagged); distribution tables (with
/// a `dist` key) are left to the model's list of drawn inputs.
fn collect_numbers(table: &toml::Table, prefix: &str, out: &mut Vec<(String, f64, bool)>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Float(v) => out.push((path, *v, false)),
            toml::Value::Integer(v) => out.push((path, *v as f64, true)),
            toml::Value::Table(t) if !t.contains_key("dist") => collect_numbers(t, &path, out),
            _ => {}
        }
    }
}

/// The metric at one end of an input's range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScreenEnd {
    /// The input's value there.
    pub value: f64,
    /// Mean of the metric.
    pub mean: f64,
    /// `P(metric < 0)` over the paths where it is defined.
    pub prob_negative: f64,
}

/// One input's screening result.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenRow {
    /// The input.
    pub input: ScreenInput,
    /// At the low end; `None` if the scenario was refused there.
    pub at_low: Option<ScreenEnd>,
    /// At the high end.
    pub at_high: Option<ScreenEnd>,
    /// `mean(high) − mean(low)` (signed), paired path by path.
    pub swing: f64,
    /// Its Monte Carlo standard error from the paired differences.
    pub swing_se: f64,
    /// Paths where the metric is defined at both ends (the swing's pairs).
    pub paths_used: usize,
    /// Why an end moved less than asked or is missing; empty otherwise.
    pub note: String,
}

impl ScreenRow {
    /// `|swing|`, NaN when an end is missing.
    pub fn abs_swing(&self) -> f64 {
        self.swing.abs()
    }
}

/// A screening: the base case and one row per input by decreasing `|swing|`.
#[derive(Clone, Debug, PartialEq)]
pub struct Screen {
    /// Metric analysed.
    pub metric: String,
    /// The base case's mean and `P(metric < 0)`.
    pub base: ScreenEnd,
    /// Rows, largest swing first (missing swings last).
    pub rows: Vec<ScreenRow>,
    /// Relative move of fixed inputs.
    pub share: f64,
    /// Paths per case.
    pub paths: u64,
}

/// What one case gives: the metric's mean, `P(< 0)` and every path's value.
pub type CaseResult = (f64, f64, Vec<f64>);

/// Screens `inputs` with `evaluate(overrides)`, which runs one case on common random
/// numbers and returns its [`CaseResult`], or an error message when the scenario is
/// refused. Ends are evaluated in parallel; the result does not depend on the thread
/// count.
///
/// # Errors
///
/// The base case's error message.
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::screen::{InputKind, ScreenInput, screen_with};
/// // A linear model y = 3 a − 2 b on four "paths": the swings are 3 (high − low) and
/// // −2 (high − low).
/// let input = |key: &str, low: f64, high: f64| ScreenInput {
///     key: key.into(), kind: InputKind::Fixed, base: (low + high) / 2.0,
///     low, high, integer: false, group: vec![], documented: false,
/// };
/// let inputs = vec![input("a", 0.0, 1.0), input("b", 1.0, 3.0)];
/// let evaluate = |sets: &[String]| -> Result<(f64, f64, Vec<f64>), String> {
///     let get = |k: &str, d: f64| sets.iter().find_map(|s| s.strip_prefix(&format!("{k}=")))
///         .map_or(d, |v| v.parse().unwrap());
///     let y = 3.0 * get("a", 0.5) - 2.0 * get("b", 2.0);
///     Ok((y, f64::from(u8::from(y < 0.0)), vec![y; 4]))
/// };
/// let screen = screen_with(&inputs, "y", 4, 0.2, evaluate).unwrap();
/// assert_eq!(screen.rows[0].input.key, "b");
/// assert!((screen.rows[0].swing + 4.0).abs() < 1e-12);
/// assert!((screen.rows[1].swing - 3.0).abs() < 1e-12);
/// ```
pub fn screen_with<F>(
    inputs: &[ScreenInput],
    metric: &str,
    paths: u64,
    share: f64,
    evaluate: F,
) -> Result<Screen, String>
where
    F: Fn(&[String]) -> Result<CaseResult, String> + Sync,
{
    let (base_mean, base_negative, _) = evaluate(&[])?;
    if !base_mean.is_finite() {
        return Err(format!(
            "`{metric}` is not defined on any path of the scenario as written: nothing to screen"
        ));
    }
    // An end refused by validation moves halfway back, up to three times.
    let end = |input: &ScreenInput, target: f64| -> (Option<(ScreenEnd, Vec<f64>)>, String) {
        let mut value = target;
        let mut last_error = String::new();
        for attempt in 0..4 {
            match evaluate(&input.overrides(value)) {
                Ok((mean, prob_negative, values)) => {
                    let note = if attempt > 0 {
                        format!(
                            "moved to {} (the range's end was refused)",
                            number(value, input.integer)
                        )
                    } else {
                        String::new()
                    };
                    return (
                        Some((
                            ScreenEnd {
                                value,
                                mean,
                                prob_negative,
                            },
                            values,
                        )),
                        note,
                    );
                }
                Err(e) => last_error = e,
            }
            value = input.base + (value - input.base) / 2.0;
            if input.integer {
                value = value.round();
            }
        }
        (None, format!("refused: {last_error}"))
    };
    let mut rows: Vec<ScreenRow> = inputs
        .par_iter()
        .map(|input| {
            let (low, low_note) = end(input, input.low);
            let (high, high_note) = end(input, input.high);
            let (swing, swing_se, paths_used) = match (&low, &high) {
                (Some((_, lo)), Some((_, hi))) => paired(lo, hi),
                _ => (f64::NAN, f64::NAN, 0),
            };
            let note = [("low", low_note), ("high", high_note)]
                .into_iter()
                .filter(|(_, n)| !n.is_empty())
                .map(|(side, n)| format!("{side}: {n}"))
                .collect::<Vec<_>>()
                .join("; ");
            ScreenRow {
                input: input.clone(),
                at_low: low.map(|(e, _)| e),
                at_high: high.map(|(e, _)| e),
                swing,
                swing_se,
                paths_used,
                note,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &ScreenRow| {
            if r.swing.is_nan() {
                -1.0
            } else {
                r.abs_swing()
            }
        };
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.input.key.cmp(&b.input.key))
    });
    Ok(Screen {
        metric: metric.to_string(),
        base: ScreenEnd {
            value: f64::NAN,
            mean: base_mean,
            prob_negative: base_negative,
        },
        rows,
        share,
        paths,
    })
}

/// Mean of `high − low` over the paths where both are defined, its standard error and the
/// number of those paths.
fn paired(low: &[f64], high: &[f64]) -> (f64, f64, usize) {
    let differences: Vec<f64> = low
        .iter()
        .zip(high)
        .map(|(l, h)| h - l)
        .filter(|d| d.is_finite())
        .collect();
    let n = differences.len() as f64;
    if n == 0.0 {
        return (f64::NAN, f64::NAN, 0);
    }
    let mean = differences.iter().sum::<f64>() / n;
    let variance = if n > 1.0 {
        differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, (variance / n).sqrt(), differences.len())
}

/// Screens every numeric input of `scenario` (see [`screen_inputs`]) for a per-path
/// metric kept path by path (such as `plan_npv_rmb_bn`), each case a run of the
/// scenario's seed and paths made by `make(overrides)`.
///
/// # Errors
///
/// A message if the share is out of range, the metric is not kept per path, or the base
/// case fails.
pub fn screen<M>(scenario: &Scenario, make: M, metric: &str, share: f64) -> Result<Screen, String>
where
    M: Fn(&[Override]) -> Result<Scenario, ScenarioError> + Sync,
{
    if !crate::model::PER_PATH_SCALARS.contains(&metric) {
        return Err(format!(
            "`{metric}` is not kept path by path, so its swings cannot be paired; use one of {}",
            crate::model::PER_PATH_SCALARS.join(", ")
        ));
    }
    let inputs = screen_inputs(scenario, share).map_err(|e| e.to_string())?;
    let (seed, paths) = (scenario.simulation().seed, scenario.simulation().paths);
    let evaluate = |sets: &[String]| -> Result<CaseResult, String> {
        let overrides = sets
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let case = make(&overrides)
            .and_then(|s| s.with_seed(seed).with_paths(paths))
            .map_err(|e| e.to_string())?;
        let results = crate::runner::simulate(&case, &crate::runner::RunOptions::default())
            .map_err(|e| e.to_string())?;
        let k = results
            .scalars
            .iter()
            .position(|(m, _)| m == metric)
            .ok_or_else(|| format!("the scenario has no `{metric}`"))?;
        let stats = &results.scalars[k].1;
        let values = results.scalar_values[k]
            .clone()
            .ok_or_else(|| format!("`{metric}` is not kept path by path"))?;
        let mean = stats.summary.as_ref().map_or(f64::NAN, |s| s.mean);
        Ok((mean, stats.prob_negative, values))
    };
    screen_with(&inputs, metric, paths, share, evaluate)
}

impl Screen {
    /// `screen.csv` into `dir` (temporary file renamed into place), one row per input,
    /// largest swing first (columns in docs/outputs.md).
    ///
    /// # Errors
    ///
    /// [`crate::output::OutputError`] naming the file.
    pub fn write_csv(
        &self,
        dir: &std::path::Path,
        scenario: &Scenario,
    ) -> Result<std::path::PathBuf, crate::output::OutputError> {
        let plain = crate::output::plain;
        let mut text = String::from(
            "scenario,metric,rank,input,kind,base_value,low_value,high_value,range,mean_at_low,mean_at_high,\
             prob_negative_at_low,prob_negative_at_high,swing,swing_se,paths_used,base_mean,base_prob_negative,note,\
             paths,seed,scenario_sha256,cloudcapex_version\n",
        );
        let end = |e: &Option<ScreenEnd>, f: fn(&ScreenEnd) -> f64| {
            e.as_ref().map_or(String::new(), |e| plain(f(e)))
        };
        for (rank, row) in self.rows.iter().enumerate() {
            let range = match (row.input.documented, row.input.kind) {
                (true, _) => "documented".to_string(),
                (false, InputKind::Drawn) => "p5-p95".to_string(),
                (false, InputKind::Fixed) => format!("+-{}%", plain(self.share * 100.0)),
            };
            text.push_str(&format!(
                "{},{},{},{},{},{},{},{},{range},{},{},{},{},{},{},{},{},{},\"{}\",{},{},{},{}\n",
                scenario.name(),
                self.metric,
                rank + 1,
                row.input.key,
                row.input.kind.name(),
                plain(row.input.base),
                end(&row.at_low, |e| e.value),
                end(&row.at_high, |e| e.value),
                end(&row.at_low, |e| e.mean),
                end(&row.at_high, |e| e.mean),
                end(&row.at_low, |e| e.prob_negative),
                end(&row.at_high, |e| e.prob_negative),
                if row.swing.is_nan() {
                    String::new()
                } else {
                    plain(row.swing)
                },
                if row.swing_se.is_nan() {
                    String::new()
                } else {
                    plain(row.swing_se)
                },
                row.paths_used,
                plain(self.base.mean),
                plain(self.base.prob_negative),
                row.note.replace('"', "'"),
                self.paths,
                scenario.simulation().seed,
                scenario.sha256(),
                crate::output::CRATE_VERSION
            ));
        }
        crate::output::write_atomically(&dir.join("screen.csv"), |out| {
            out.write_all(text.as_bytes())
        })
    }

    /// The console table: the largest swings, with the base case.
    pub fn table(&self, rows: usize) -> String {
        let mut out = format!(
            "Screen of every input on `{}` ({} paths a case, common random numbers; fixed inputs \
             ±{}%, drawn ones p5-p95)\nbase: mean {:.2}, P(< 0) {:.3}\n{:<4} {:<62} {:<5} {:>10} {:>10} {:>9} {:>9} {:>8} {:>7}\n",
            self.metric,
            self.paths,
            self.share * 100.0,
            self.base.mean,
            self.base.prob_negative,
            "rank",
            "input",
            "kind",
            "low",
            "high",
            "at low",
            "at high",
            "swing",
            "se"
        );
        for (rank, row) in self.rows.iter().take(rows).enumerate() {
            let at = |e: &Option<ScreenEnd>| {
                e.as_ref()
                    .map_or("-".to_string(), |e| format!("{:.2}", e.mean))
            };
            let value = |e: &Option<ScreenEnd>| {
                e.as_ref()
                    .map_or("-".to_string(), |e| format!("{:.4}", e.value))
            };
            out.push_str(&format!(
                "{:<4} {:<62} {:<5} {:>10} {:>10} {:>9} {:>9} {:>8.2} {:>7.2}\n",
                rank + 1,
                row.input.key,
                row.input.kind.name(),
                value(&row.at_low),
                value(&row.at_high),
                at(&row.at_low),
                at(&row.at_high),
                row.swing,
                row.swing_se
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_their_sum() {
        let s = Scenario::default_scenario();
        let inputs = screen_inputs(&s, 0.2).unwrap();
        let q1 = inputs
            .iter()
            .find(|i| i.key == "revenue.seasonality.q1")
            .unwrap();
        assert_eq!(q1.group.len(), 3);
        let sets = q1.overrides(q1.high);
        let total: f64 = sets
            .iter()
            .map(|s| s.split_once('=').unwrap().1.parse::<f64>().unwrap())
            .sum();
        assert!((total - 4.0).abs() < 1e-9, "{sets:?}");
        let share = inputs
            .iter()
            .find(|i| i.key == "plan.assets.ai_compute.share")
            .unwrap();
        assert_eq!(share.group.len(), 3, "{:?}", share.group);
        assert!(
            inputs
                .iter()
                .all(|i| !i.key.starts_with("simulation.") && !i.key.starts_with("time."))
        );
        // Integers move by at least one.
        let life = inputs
            .iter()
            .find(|i| i.key == "plan.assets.network.useful_life_quarters")
            .unwrap();
        assert!(life.integer && life.low <= life.base - 1.0 && life.high >= life.base + 1.0);
        assert_eq!(
            life.overrides(22.4)[0],
            "plan.assets.network.useful_life_quarters=22"
        );
    }
}
