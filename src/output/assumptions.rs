//! The assumptions as a table for `report.html`: every key of the resolved scenario with
//! its value or distribution, where it was set (a file, a `--set`, or the default) and the
//! comment written beside it in that file, which is where scenario files cite their
//! sources.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::Scenario;

/// One key of the resolved scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumptionRow {
    /// Dotted key path, as `--set` takes it.
    pub key: String,
    /// The value (`0.06`, `"2026Q1"`) or the distribution (`PERT(min 0.6, mode 1.1, max
    /// 1.8)`).
    pub value: String,
    /// Where the value was set: a scenario file, `--set KEY=VALUE`, or `default`.
    pub source: String,
    /// The comment directly above the key in that file and the one trailing on its line,
    /// joined; empty if none (or the file can no longer be read).
    pub comment: String,
}

/// Suffix of the embedded default scenario's source name
/// ([`Scenario::default_scenario`]): its text is the binary's copy, not a file.
const EMBEDDED_SUFFIX: &str = " (embedded default)";

/// The rows of `scenario`, in the order of its resolved TOML (`scenario.toml`); the name
/// and description are left out (the page's heading says them). Comments are read from
/// the scenario files named in [`Scenario::files`] when this is called.
///
/// # Examples
///
/// ```
/// use cloudcapex::{Scenario, output::assumption_rows};
/// let rows = assumption_rows(&Scenario::default_scenario());
/// let growth = rows.iter().find(|r| r.key == "revenue.segments.ai.initial_growth").unwrap();
/// assert_eq!(growth.value, "PERT(min 0.6, mode 1.1, max 1.8)");
/// assert!(growth.comment.contains("ASSUMPTION"));
/// ```
pub fn assumption_rows(scenario: &Scenario) -> Vec<AssumptionRow> {
    let resolved = scenario.resolved_toml();
    let Ok(values) = toml::from_str::<toml::Table>(&resolved) else {
        return Vec::new();
    };
    let Ok(order) = DeTable::parse(&resolved) else {
        return Vec::new();
    };
    let mut leaves = Vec::new();
    collect_leaves(order.get_ref(), "", &mut leaves);
    leaves.sort_by_key(|leaf| leaf.key_span.start);
    let files: Vec<(String, Option<FileKeys>)> = scenario
        .files()
        .iter()
        .rev()
        .map(|file| (file.clone(), file_text(file).map(|t| FileKeys::of(&t))))
        .collect();
    leaves
        .into_iter()
        .filter(|leaf| leaf.path != "name" && leaf.path != "description")
        .filter_map(|leaf| {
            let value = lookup(&values, &leaf.path)?;
            let (source, comment) = source_of(&leaf.path, value, scenario.overrides(), &files);
            Some(AssumptionRow {
                value: value_text(value),
                key: leaf.path,
                source,
                comment,
            })
        })
        .collect()
}

/// The text of a scenario file as [`Scenario::files`] names it.
fn file_text(name: &str) -> Option<String> {
    if name.ends_with(EMBEDDED_SUFFIX) {
        return Some(crate::scenario::DEFAULT_SCENARIO_TOML.to_string());
    }
    crate::input_file::read_text(
        std::path::Path::new(name),
        crate::input_file::MAX_SCENARIO_BYTES,
        "a scenario file",
    )
    .ok()
}

/// The keys a run's options set besides `--set`, and the options.
const RUN_OPTION_KEYS: [(&str, &str); 2] = [
    ("simulation.paths", "--paths (or --target-se's --max-paths)"),
    ("simulation.seed", "--seed"),
];

/// Where `key` was set: the last `--set` of it or of a table holding it, a run option that
/// changed it from the files' value, else the last file (`files` is most derived first)
/// that writes it, with its comment; else `default`.
fn source_of(
    key: &str,
    value: &toml::Value,
    overrides: &[String],
    files: &[(String, Option<FileKeys>)],
) -> (String, String) {
    let covers = |written: &str| key == written || key.starts_with(&format!("{written}."));
    if let Some(arg) = overrides.iter().rev().find(|arg| {
        arg.split_once('=')
            .is_some_and(|(written, _)| covers(written.trim()))
    }) {
        return (format!("--set {arg}"), String::new());
    }
    let option = RUN_OPTION_KEYS.iter().find(|(k, _)| *k == key).map(|o| o.1);
    for (file, keys) in files {
        let Some(keys) = keys else { continue };
        if let Some(comment) = keys.comments.get(key) {
            return match option {
                Some(option) if lookup(&keys.values, key) != Some(value) => {
                    (format!("command line: {option}"), String::new())
                }
                _ => (file.clone(), comment.clone()),
            };
        }
    }
    match option {
        Some(option) if lookup(&default_simulation(), key) != Some(value) => {
            (format!("command line: {option}"), String::new())
        }
        _ => ("default".to_string(), String::new()),
    }
}

/// What a scenario file writes: its values and each key's comment.
struct FileKeys {
    values: toml::Table,
    comments: BTreeMap<String, String>,
}

impl FileKeys {
    fn of(text: &str) -> Self {
        Self {
            values: toml::from_str(text).unwrap_or_default(),
            comments: key_comments(text),
        }
    }
}

/// The `[simulation]` values a scenario that writes none runs with: those of the
/// smallest valid scenario, one revenue segment.
fn default_simulation() -> toml::Table {
    const SMALLEST: &str = "[revenue.segments.cloud]\nstart_revenue_rmb_bn = 1\n\
                            initial_growth = 0\nterminal_growth = 0\ngrowth_half_life_quarters = 1\n";
    let text = Scenario::from_toml_str("default", "default", SMALLEST, &[])
        .map(|s| s.resolved_toml())
        .unwrap_or_default();
    toml::from_str(&text).unwrap_or_default()
}

/// A key of a TOML text that holds a value (a distribution's table counts as one).
struct Leaf {
    path: String,
    key_span: Range<usize>,
    value_span: Range<usize>,
}

fn is_distribution(table: &DeTable<'_>) -> bool {
    table.iter().any(|(k, _)| k.get_ref() == "dist")
}

fn collect_leaves(table: &DeTable<'_>, prefix: &str, out: &mut Vec<Leaf>) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        match value.get_ref() {
            DeValue::Table(inner) if !is_distribution(inner) => {
                collect_leaves(inner, &path, out);
            }
            _ => out.push(Leaf {
                path,
                key_span: key.span(),
                value_span: value.span(),
            }),
        }
    }
}

/// Every key written in `text` (a scenario file) with its comment: the comment lines
/// directly above the key's line (no blank line between) and the comment trailing on the
/// line where its value ends, joined with a space. A text that does not parse gives none.
fn key_comments(text: &str) -> BTreeMap<String, String> {
    let Ok(parsed) = DeTable::parse(text) else {
        return BTreeMap::new();
    };
    let mut leaves = Vec::new();
    collect_leaves(parsed.get_ref(), "", &mut leaves);
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count();
    leaves
        .into_iter()
        .map(|leaf| {
            let key_line = line_of(leaf.key_span.start);
            let mut above: Vec<&str> = Vec::new();
            for line in lines[..key_line.min(lines.len())].iter().rev() {
                let Some(comment) = line.trim_start().strip_prefix('#') else {
                    break;
                };
                above.push(comment.trim());
            }
            above.reverse();
            let value_line = if leaf.value_span.is_empty() {
                key_line
            } else {
                line_of(leaf.value_span.end.saturating_sub(1))
            };
            let trailing = lines
                .get(value_line)
                .and_then(|l| trailing_comment(l))
                .unwrap_or_default();
            let comment = above
                .into_iter()
                .chain(std::iter::once(trailing))
                // Rules drawn with dashes separate sections; they say nothing.
                .filter(|c| !c.is_empty() && !c.chars().all(|ch| ch == '-' || ch == '='))
                .collect::<Vec<_>>()
                .join(" ");
            (leaf.path, comment)
        })
        .collect()
}

/// The comment at the end of a TOML line, outside any string, without its `#`.
fn trailing_comment(line: &str) -> Option<&str> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => {
                // A line that is only a comment is not a trailing one.
                return (!line[..i].trim().is_empty()).then(|| line[i + 1..].trim());
            }
            None => {}
        }
    }
    None
}

fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// Distribution parameters in the order the scenario format lists them.
const PARAMETER_ORDER: [&str; 9] = [
    "mean", "sd", "mu", "sigma", "alpha", "beta", "min", "mode", "max",
];

/// A value as a reader writes it: numbers and strings as in TOML, a distribution as
/// `PERT(min 0.6, mode 1.1, max 1.8)`.
fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Table(table) => match table.get("dist").and_then(toml::Value::as_str) {
            Some(kind) => {
                let name = match kind {
                    "pert" => "PERT".to_string(),
                    other => {
                        let words = other.replace('_', " ");
                        let mut chars = words.chars();
                        chars.next().map_or_else(String::new, |c| {
                            c.to_uppercase().chain(chars).collect::<String>()
                        })
                    }
                };
                let mut parameters: Vec<(&String, &toml::Value)> =
                    table.iter().filter(|(k, _)| *k != "dist").collect();
                // In the order the format documents them (docs/scenario-format.md), not
                // alphabetically: min, mode, max reads as a range.
                parameters.sort_by_key(|(k, _)| {
                    PARAMETER_ORDER
                        .iter()
                        .position(|p| p == k)
                        .unwrap_or(PARAMETER_ORDER.len())
                });
                let parameters: Vec<String> = parameters
                    .into_iter()
                    .map(|(k, v)| format!("{k} {}", value_text(v)))
                    .collect();
                format!("{name}({})", parameters.join(", "))
            }
            None => toml::Value::Table(table.clone()).to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_above_and_trailing_belong_to_their_key() {
        let text = "# the file's heading\n\n[a]\n# first line\n# second line\nx = 1   # trailing\n\ny = \"#not a comment\" # real\n# ----\nz = { dist = \"pert\", min = 0, mode = 1, max = 2 }\n";
        let comments = key_comments(text);
        assert_eq!(comments["a.x"], "first line second line trailing");
        assert_eq!(comments["a.y"], "real");
        assert_eq!(comments["a.z"], "", "a rule is not a comment");
    }

    #[test]
    fn trailing_comments_skip_strings() {
        assert_eq!(trailing_comment(r##"k = "a\"#b" # c"##), Some("c"));
        assert_eq!(trailing_comment("k = 'a#b'"), None);
        assert_eq!(trailing_comment("# only a comment"), None);
    }

    /// A `--set` names itself as the source; a key the files never write is a default.
    #[test]
    fn sources_are_the_set_the_file_or_the_default() {
        let set = crate::Override::parse("costs.tax_rate=0.2").unwrap();
        let s = Scenario::default_with(&[set]).unwrap();
        let rows = assumption_rows(&s);
        let tax = rows.iter().find(|r| r.key == "costs.tax_rate").unwrap();
        assert_eq!(
            (tax.source.as_str(), tax.value.as_str()),
            ("--set costs.tax_rate=0.2", "0.2")
        );
        let spend = rows
            .iter()
            .find(|r| r.key == "plan.actual_spend_rmb_bn.2025Q2")
            .unwrap();
        assert!(spend.source.ends_with(EMBEDDED_SUFFIX), "{spend:?}");
        assert!(spend.comment.contains("386"), "{spend:?}");
        assert!(rows.iter().all(|r| r.key != "name"));
        let paths = rows.iter().find(|r| r.key == "simulation.paths").unwrap();
        assert!(paths.source.ends_with(EMBEDDED_SUFFIX), "{paths:?}");
        let fewer = assumption_rows(&s.clone().with_paths(77).unwrap());
        let paths = fewer.iter().find(|r| r.key == "simulation.paths").unwrap();
        assert!(
            paths.source.starts_with("command line: --paths"),
            "{paths:?}"
        );
    }
}
