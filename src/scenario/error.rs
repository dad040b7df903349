//! Errors found while reading and validating scenarios. Each names where it happened.

use std::fmt;
use std::path::PathBuf;

/// A place in a scenario source: a file, or a `--set` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// File path as given (or `--set KEY=VALUE` for an override).
    pub source: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The text of that line, for display.
    pub line_text: String,
    /// Length of the marked region on that line, in characters (at least 1).
    pub width: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, line {}, column {}",
            self.source, self.line, self.column
        )
    }
}

impl Location {
    /// The source line with a caret under the marked region.
    fn excerpt(&self) -> String {
        let gutter = self.line.to_string().len();
        let marker = format!(
            "{}{}",
            " ".repeat(self.column - 1),
            "^".repeat(self.width.max(1))
        );
        format!(
            "{:gutter$} |\n{} | {}\n{:gutter$} | {}",
            "",
            self.line,
            self.line_text,
            "",
            marker,
            gutter = gutter
        )
    }
}

/// Why a scenario was refused. Every variant says where and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A scenario file (or a file it extends) could not be read.
    #[error("{}cannot read scenario file {}: {source}", included_from.as_ref().map(|l| format!("{l}: key `extends`: ")).unwrap_or_default(), path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The `extends` key that named it, if any.
        included_from: Option<Location>,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML.
    #[error("{location}: invalid TOML: {message}\n{}", location.excerpt())]
    Syntax {
        /// Where.
        location: Location,
        /// What the TOML parser expected.
        message: String,
    },
    /// A key is unknown, has the wrong type, or a value is out of range or inconsistent.
    #[error("{}key `{key}`: {message}{}",
        location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default(),
        location.as_ref().map(|l| format!("\n{}", l.excerpt())).unwrap_or_default())]
    Invalid {
        /// Full dotted key path, e.g. `revenue.segments.ai.initial_growth`.
        key: String,
        /// Where the key (or, for a missing key, its table) was written.
        location: Option<Location>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// `extends` chains loop back to a file already being read.
    #[error("{location}: key `extends`: cycle of extends: {}", chain.join(" -> "))]
    ExtendsCycle {
        /// The `extends` key that closes the loop.
        location: Location,
        /// The files in the loop, in order.
        chain: Vec<String>,
    },
    /// A `--set` argument is not of the form `key.path=value`.
    #[error("--set {argument:?}: {message}")]
    BadOverride {
        /// The argument as given.
        argument: String,
        /// What was expected.
        message: String,
    },
    /// Several problems found in one pass (each reported, up to [`MAX_REPORTED_ERRORS`], so
    /// that one edit fixes them all): unknown keys and wrong types of one file, or values out
    /// of their ranges anywhere in the scenario.
    #[error("{}", several(errors, *checks_skipped, *truncated))]
    Several {
        /// The errors, in the order the keys were read.
        errors: Vec<ScenarioError>,
        /// Whether validation stopped at a check that combines several keys, which would
        /// judge the stand-ins of the refused values, so that it and the values after it
        /// are checked once these are fixed.
        checks_skipped: bool,
        /// Whether more problems were found than are reported.
        truncated: bool,
    },
}

fn several(errors: &[ScenarioError], checks_skipped: bool, truncated: bool) -> String {
    let mut text = match errors {
        [one] => one.to_string(),
        _ => format!(
            "{} problems:\n\n{}",
            errors.len(),
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n\n")
        ),
    };
    if truncated {
        text.push_str(&format!(
            "\n\n(the first {MAX_REPORTED_ERRORS} are shown; more follow once these are fixed)"
        ));
    }
    if checks_skipped {
        text.push_str(
            "\n\n(validation stopped at a check that combines several keys, such as growth against \
             the discount rate or shares summing to 1, which would judge stand-ins for the values \
             above; it and the keys after it are checked once these are fixed)",
        );
    }
    text
}

/// One error from several found in one pass: alone if single, else [`ScenarioError::Several`]
/// with every error flattened, in order, up to [`MAX_REPORTED_ERRORS`].
pub(crate) fn combine(errors: Vec<ScenarioError>) -> ScenarioError {
    let mut flat = Vec::new();
    let (mut skipped, mut truncated) = (false, false);
    for e in errors {
        match e {
            ScenarioError::Several {
                errors,
                checks_skipped,
                truncated: t,
            } => {
                flat.extend(errors);
                skipped |= checks_skipped;
                truncated |= t;
            }
            other => flat.push(other),
        }
    }
    if flat.len() > MAX_REPORTED_ERRORS {
        flat.truncate(MAX_REPORTED_ERRORS);
        truncated = true;
    }
    if flat.len() == 1 && !skipped && !truncated {
        return flat.remove(0);
    }
    ScenarioError::Several {
        errors: flat,
        checks_skipped: skipped,
        truncated,
    }
}

/// Most errors of one file reported together.
pub const MAX_REPORTED_ERRORS: usize = 20;

impl ScenarioError {
    /// The dotted key path the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid { key, .. } => Some(key),
            ScenarioError::Several { errors, .. } => errors.first().and_then(|e| e.key()),
            ScenarioError::ExtendsCycle { .. } => Some("extends"),
            ScenarioError::Read {
                included_from: Some(_),
                ..
            } => Some("extends"),
            _ => None,
        }
    }

    /// Where in which source the error is, when known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ScenarioError::Read { included_from, .. } => included_from.as_ref(),
            ScenarioError::Syntax { location, .. }
            | ScenarioError::ExtendsCycle { location, .. } => Some(location),
            ScenarioError::Invalid { location, .. } => location.as_ref(),
            ScenarioError::BadOverride { .. } => None,
            ScenarioError::Several { errors, .. } => errors.first().and_then(|e| e.location()),
        }
    }
}

/// Edit distance between two short names: insertions, deletions, substitutions and swaps of
/// neighbours, one each (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// ` (did you mean `x`?)` when one candidate is close to `name` (at most a third of its
/// letters edited, at least one), else empty: a typo gets the fix, not only the list.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map_or_else(String::new, |(_, c)| format!(" (did you mean `{c}`?)"))
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(edit_distance("totl", "total"), 1);
        assert_eq!(
            did_you_mean("initial_grwth", ["initial_growth", "terminal_growth"]),
            " (did you mean `initial_growth`?)"
        );
        assert_eq!(did_you_mean("ia", ["ai", "core"]), " (did you mean `ai`?)");
        assert_eq!(did_you_mean("zzzz", ["ai", "core"]), "");
    }
}
