//! What every section's checks share: a [`Range`] of valid values with the words that
//! describe it, and the [`Validator`] of one pass, which turns a refused value into an error
//! at its key (the loader locates it in the file) and goes on with a stand-in, so that one
//! pass reports every value out of range.

use std::cell::RefCell;

use super::dist::Param;
use super::dist::RawParam;
use super::error::MAX_REPORTED_ERRORS;
use super::error::ScenarioError;
use super::load::Loaded;

/// An interval of valid values, with the words used to describe it.
#[derive(Clone, Copy)]
pub(crate) struct Range {
    min: f64,
    min_inclusive: bool,
    max: f64,
    max_inclusive: bool,
    expected: &'static str,
}

impl Range {
    pub(crate) const fn new(
        min: f64,
        min_inclusive: bool,
        max: f64,
        max_inclusive: bool,
        expected: &'static str,
    ) -> Self {
        Self {
            min,
            min_inclusive,
            max,
            max_inclusive,
            expected,
        }
    }

    fn contains(&self, x: f64) -> bool {
        let above = if self.min_inclusive {
            x >= self.min
        } else {
            x > self.min
        };
        let below = if self.max_inclusive {
            x <= self.max
        } else {
            x < self.max
        };
        above && below
    }

    /// A value inside the range, standing in for a refused one so that validation goes on
    /// to find the file's other out-of-range values in the same pass.
    pub(super) fn stand_in(&self) -> f64 {
        match (self.min.is_finite(), self.max.is_finite()) {
            (true, true) => 0.5 * (self.min + self.max),
            (true, false) => self.min + 1.0,
            (false, true) => self.max - 1.0,
            (false, false) => 0.0,
        }
    }

    fn interval(&self) -> String {
        let fmt = |x: f64| {
            if x.is_infinite() {
                if x > 0.0 {
                    "inf".to_string()
                } else {
                    "-inf".to_string()
                }
            } else {
                x.to_string()
            }
        };
        format!(
            "{}{}, {}{}",
            if self.min_inclusive { '[' } else { '(' },
            fmt(self.min),
            fmt(self.max),
            if self.max_inclusive { ']' } else { ')' }
        )
    }
}

/// Whether `name` is an identifier `[A-Za-z][A-Za-z0-9_-]*`: a bare TOML key that
/// `--set` key paths can reach (no '.', which separates their segments), and a column name
/// that needs no quoting in CSV, SALib's sample files or a whitespace-separated matrix.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

// Ranges that more than one section checks against.
pub(super) const UTILIZATION: Range = Range::new(
    0.0,
    false,
    1.0,
    true,
    "a utilization share greater than 0 and at most 1",
);
pub(super) const UNMET: Range =
    Range::new(0.0, true, 1.0, false, "a share of demand from 0 to below 1");
pub(super) const DISCOUNT: Range = Range::new(
    0.0,
    false,
    1.0,
    true,
    "an annual discount rate greater than 0 and at most 1",
);

pub(crate) struct Validator<'a> {
    loaded: &'a Loaded,
    /// Values refused so far in this pass; each was replaced by a stand-in inside its range.
    refused: RefCell<Vec<ScenarioError>>,
}

impl<'a> Validator<'a> {
    /// A validation pass over `loaded`, nothing refused yet.
    pub(super) fn new(loaded: &'a Loaded) -> Self {
        Self {
            loaded,
            refused: RefCell::new(Vec::new()),
        }
    }

    /// The sources being validated.
    pub(super) fn loaded(&self) -> &'a Loaded {
        self.loaded
    }

    /// The values refused so far in this pass, handed over (none are left behind).
    pub(super) fn take_refused(&self) -> Vec<ScenarioError> {
        self.refused.take()
    }

    /// Records a refused value and hands back `stand_in`, so that one pass reports every
    /// value out of its range (up to [`MAX_REPORTED_ERRORS`]) rather than only the first.
    pub(crate) fn refuse<T>(&self, error: ScenarioError, stand_in: T) -> Result<T, ScenarioError> {
        let mut refused = self.refused.borrow_mut();
        if refused.len() >= MAX_REPORTED_ERRORS {
            // One more than the cap: the pass stops, and the report says more follow.
            return Err(ScenarioError::Several {
                errors: Vec::new(),
                checks_skipped: false,
                truncated: true,
            });
        }
        refused.push(error);
        Ok(stand_in)
    }

    pub(crate) fn error(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            key: key.to_string(),
            location: self.loaded.locate(key),
            message: message.into(),
        }
    }

    pub(crate) fn missing(&self, key: &str, range: &Range) -> ScenarioError {
        self.error(key, format!("missing key: expected {}", range.expected))
    }

    pub(crate) fn number(
        &self,
        key: &str,
        value: f64,
        range: &Range,
    ) -> Result<f64, ScenarioError> {
        if value.is_nan() || !range.contains(value) {
            let error = self.error(
                key,
                format!(
                    "expected {} (valid range {}), found {value}",
                    range.expected,
                    range.interval()
                ),
            );
            return self.refuse(error, range.stand_in());
        }
        Ok(value)
    }

    pub(crate) fn param(
        &self,
        key: &str,
        raw: Option<&RawParam>,
        default: Option<f64>,
        range: &Range,
    ) -> Result<Param, ScenarioError> {
        match raw {
            None => match default {
                Some(value) => Ok(Param::Fixed(value)),
                None => self.refuse(self.missing(key, range), Param::Fixed(range.stand_in())),
            },
            Some(RawParam::Fixed(value)) => self.number(key, *value, range).map(Param::Fixed),
            Some(RawParam::Random(raw)) => {
                let dist = match raw.validate() {
                    Ok(dist) => dist,
                    Err(e) => {
                        let error = self.error(key, format!("invalid distribution: {e}"));
                        return self.refuse(error, Param::Fixed(range.stand_in()));
                    }
                };
                let (lo, hi) = dist.support();
                // Infinite ends of a support are never drawn, so an unbounded range admits them.
                let lower_ok = lo > range.min
                    || (lo == range.min
                        && (range.min_inclusive
                            || lo.is_infinite()
                            || !dist.attains_lower_bound()));
                let upper_ok = hi < range.max
                    || (hi == range.max && (range.max_inclusive || hi.is_infinite()));
                if !(lower_ok && upper_ok) {
                    let error = self.error(
                        key,
                        format!(
                            "a {} distribution takes values in [{lo}, {hi}], outside the valid range {}: \
                             expected {}; bound it (truncated_normal, triangular, pert, uniform or a scaled beta)",
                            dist.kind(),
                            range.interval(),
                            range.expected
                        ),
                    );
                    return self.refuse(error, Param::Fixed(range.stand_in()));
                }
                Ok(Param::Random(dist))
            }
        }
    }

    /// A name that becomes part of key paths, metric names and CSV or Parquet column names
    /// (a segment, regime, event, effect or asset class): see [`is_identifier`]. Refused
    /// with the others found in the pass.
    pub(crate) fn identifier(
        &self,
        key: &str,
        name: &str,
        what: &str,
    ) -> Result<(), ScenarioError> {
        if is_identifier(name) {
            return Ok(());
        }
        let error = self.error(
            key,
            format!(
                "{what} names must be identifiers: an ASCII letter, then letters, digits, '_' or '-' \
                 (the name becomes part of key paths such as `--set` takes, metric names and column \
                 names of the CSV files and sample matrices); found {name:?}"
            ),
        );
        self.refuse(error, ())
    }

    pub(crate) fn integer(
        &self,
        key: &str,
        value: i64,
        min: i64,
        max: i64,
        expected: &str,
    ) -> Result<i64, ScenarioError> {
        if !(min..=max).contains(&value) {
            let error = self.error(
                key,
                format!("expected {expected} from {min} to {max}, found {value}"),
            );
            return self.refuse(error, value.clamp(min, max));
        }
        Ok(value)
    }
}
