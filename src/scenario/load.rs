//! Reading scenario sources: files, `extends` chains, `--set` overrides, deep merge, and
//! the map from every key path to where it was last written (for error messages).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::doc::ScenarioDoc;
use super::error::{Location, ScenarioError};
use crate::input_file::MAX_EXTENDS_DEPTH;

/// One `--set key.path=value` override, checked for form.
///
/// # Examples
///
/// ```
/// use cloudcapex::scenario::Override;
/// let o = Override::parse("revenue.segments.ai.initial_growth=0.8").unwrap();
/// assert_eq!(o.key(), "revenue.segments.ai.initial_growth");
/// assert!(Override::parse("no_equals_sign").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    argument: String,
    key: String,
    value: String,
}

impl Override {
    /// Parses `key.path=value`. The value is TOML (`0.8`, `"text"`, `{ dist = ... }`); a
    /// bare word that is not valid TOML is taken as a string (`time.start_quarter=2026Q3`).
    ///
    /// # Errors
    ///
    /// [`ScenarioError::BadOverride`] if there is no `=` or a key segment is not a bare
    /// TOML key (letters, digits, `_`, `-`).
    pub fn parse(argument: &str) -> Result<Self, ScenarioError> {
        let bad = |message: &str| ScenarioError::BadOverride {
            argument: argument.to_string(),
            message: message.to_string(),
        };
        let (key, value) = argument.split_once('=').ok_or_else(|| {
            bad("expected KEY=VALUE, e.g. revenue.segments.ai.initial_growth=0.8")
        })?;
        let key = key.trim();
        let bare = |segment: &str| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !key.split('.').all(bare) {
            return Err(bad(
                "the key must be a dotted path of names made of letters, digits, '_' or '-', \
                 e.g. revenue.segments.ai.initial_growth",
            ));
        }
        if key == "extends" {
            return Err(bad(
                "`extends` cannot be overridden; run the other file instead",
            ));
        }
        if value.trim().is_empty() {
            return Err(bad("the value is empty"));
        }
        Ok(Self {
            argument: argument.to_string(),
            key: key.to_string(),
            value: value.trim().to_string(),
        })
    }

    /// The dotted key path.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The argument as given.
    pub fn argument(&self) -> &str {
        &self.argument
    }

    /// The override as a one-line TOML document.
    fn as_toml(&self) -> String {
        let line = format!("{} = {}", self.key, self.value);
        if toml::from_str::<toml::Table>(&line).is_ok() {
            line
        } else {
            format!("{} = {}", self.key, toml::Value::String(self.value.clone()))
        }
    }
}

/// Text of one source, kept for line numbers in error messages.
#[derive(Debug)]
struct Source {
    name: String,
    text: String,
}

impl Source {
    fn location(&self, span: Range<usize>) -> Location {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line_text = self.text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let end = span.end.clamp(start, line_end);
        Location {
            source: self.name.clone(),
            line: self.text[..start].matches('\n').count() + 1,
            column: self.text[line_start..start].chars().count() + 1,
            line_text,
            width: self.text[start..end].chars().count().max(1),
        }
    }
}

/// Where a key was written: the span of its key and of its value.
#[derive(Clone, Debug)]
struct Origin {
    source: usize,
    key_span: Range<usize>,
    value_span: Range<usize>,
}

/// The merged document of a scenario and where each of its keys came from.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    sources: Vec<Source>,
    origins: BTreeMap<String, Origin>,
    pub(crate) merged: toml::Table,
    /// Files read, root first.
    pub(crate) files: Vec<String>,
    /// The `name` key of the last file read (not inherited through `extends`), or of a
    /// `--set name=...`.
    pub(crate) declared_name: Option<String>,
}

/// Deep merge of `layer` into `into`. A table with a `dist` key is one value (a
/// distribution): replaced whole, never merged key by key, so a `uniform` replacing a
/// `triangular` does not inherit its `mode`.
fn merge_tables(into: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming))
                if !existing.contains_key("dist") && !incoming.contains_key("dist") =>
            {
                merge_tables(existing, incoming)
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn collect_origins(
    table: &DeTable<'_>,
    prefix: &str,
    source: usize,
    out: &mut BTreeMap<String, Origin>,
) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        out.insert(
            path.clone(),
            Origin {
                source,
                key_span: key.span(),
                value_span: value.span(),
            },
        );
        if let DeValue::Table(inner) = value.get_ref() {
            collect_origins(inner, &path, source, out);
        }
    }
}

impl Loaded {
    /// Where `key` (or its nearest written ancestor) was last written.
    pub(crate) fn locate(&self, key: &str) -> Option<Location> {
        let mut path = key;
        loop {
            if let Some(origin) = self.origins.get(path) {
                let span = if origin.key_span.is_empty() {
                    origin.value_span.clone()
                } else {
                    origin.key_span.start..origin.value_span.end.max(origin.key_span.end)
                };
                return Some(self.sources[origin.source].location(span));
            }
            path = &path[..path.rfind('.')?];
        }
    }

    fn add_source(&mut self, name: String, text: String) -> usize {
        self.sources.push(Source { name, text });
        self.sources.len() - 1
    }

    /// Parses and type-checks one source on its own; returns its table, its origins and
    /// its `extends` value.
    #[allow(clippy::type_complexity)]
    fn parse_layer(
        &self,
        source: usize,
    ) -> Result<
        (
            toml::Table,
            BTreeMap<String, Origin>,
            Option<(String, Location)>,
        ),
        ScenarioError,
    > {
        let src = &self.sources[source];
        let syntax = |e: toml::de::Error| ScenarioError::Syntax {
            location: src.location(e.span().unwrap_or(0..0)),
            message: e.message().trim().to_string(),
        };
        let parsed = DeTable::parse(&src.text).map_err(syntax)?;
        let mut origins = BTreeMap::new();
        collect_origins(parsed.get_ref(), "", source, &mut origins);

        // The deepest key whose key or value contains a serde error, and the error.
        let invalid = |e: &toml::de::Error| {
            let span = e.span().unwrap_or(0..0);
            let key = origins
                .iter()
                .filter(|(_, o)| {
                    o.key_span.contains(&span.start) || o.value_span.contains(&span.start)
                })
                .max_by_key(|(path, _)| path.matches('.').count())
                .map(|(path, _)| path.clone())
                .unwrap_or_default();
            ScenarioError::Invalid {
                key,
                location: Some(src.location(span)),
                message: describe_serde_message(e.message()),
            }
        };
        let doc: ScenarioDoc = match toml::from_str(&src.text) {
            Ok(doc) => doc,
            Err(first) => {
                // Report every bad key of the file, not only the first: blank the bad key's
                // lines (offsets kept, so locations stay right) and parse again, until the
                // file parses, the same key fails again or the cap is reached.
                let mut errors = vec![invalid(&first)];
                let mut text = src.text.clone().into_bytes();
                // Gathered beyond the cap, then sorted, so the first in the file are kept.
                while errors.len() < 10 * super::error::MAX_REPORTED_ERRORS {
                    let Some(ScenarioError::Invalid { key, .. }) = errors.last() else {
                        break;
                    };
                    let Some(origin) = origins.get(key.as_str()) else {
                        break;
                    };
                    let start = text[..origin.key_span.start]
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |i| i + 1);
                    let mut end = origin.value_span.end.min(src.text.len());
                    if src.text[start..].trim_start().starts_with('[') {
                        // A misspelt table header: its keys go with it, or they would
                        // be reported as unknown top-level keys.
                        end = src.text[origin.key_span.end.min(src.text.len())..]
                            .find("\n[")
                            .map_or(src.text.len(), |i| origin.key_span.end + i + 1);
                    }
                    for b in &mut text[start..end] {
                        if *b != b'\n' {
                            *b = b' ';
                        }
                    }
                    let Ok(blanked) = std::str::from_utf8(&text) else {
                        break;
                    };
                    match toml::from_str::<ScenarioDoc>(blanked) {
                        Ok(_) => break,
                        Err(_) if DeTable::parse(blanked).is_err() => break,
                        Err(e) => {
                            let next = invalid(&e);
                            if next.key() == errors.last().and_then(|l| l.key()) {
                                break;
                            }
                            errors.push(next);
                        }
                    }
                }
                // In the file's order.
                errors.sort_by_key(|e| e.location().map(|l| (l.line, l.column)));
                let truncated = errors.len() > super::error::MAX_REPORTED_ERRORS;
                errors.truncate(super::error::MAX_REPORTED_ERRORS);
                return Err(if errors.len() == 1 {
                    errors.remove(0)
                } else {
                    ScenarioError::Several {
                        errors,
                        checks_skipped: false,
                        truncated,
                    }
                });
            }
        };
        let table: toml::Table = toml::from_str(&src.text).map_err(syntax)?;
        let extends = doc.extends.map(|target| {
            let origin = &origins["extends"];
            (
                target,
                src.location(origin.key_span.start..origin.value_span.end),
            )
        });
        Ok((table, origins, extends))
    }

    /// Merges a layer; a file's `name` names the scenario only if it is the last file read
    /// (`file_layer`: each file replaces it, present or not), an override's if present.
    fn merge_layer(
        &mut self,
        mut table: toml::Table,
        origins: BTreeMap<String, Origin>,
        file_layer: bool,
    ) {
        table.remove("extends");
        let name = table
            .remove("name")
            .and_then(|v| v.as_str().map(String::from));
        if file_layer || name.is_some() {
            self.declared_name = name;
        }
        merge_tables(&mut self.merged, table);
        self.origins.extend(origins);
    }

    /// Reads `path` and, first, everything it extends (each a regular file of at most
    /// [`crate::input_file::MAX_SCENARIO_BYTES`], at most [`MAX_EXTENDS_DEPTH`] files in
    /// all; `stack` holds the files above `path`).
    pub(crate) fn load_file(
        &mut self,
        path: &Path,
        stack: &mut Vec<PathBuf>,
        included_from: Option<Location>,
    ) -> Result<(), ScenarioError> {
        let read_error = |source| ScenarioError::Read {
            path: path.to_path_buf(),
            included_from: included_from.clone(),
            source,
        };
        let canonical = path.canonicalize().map_err(read_error)?;
        if let Some(start) = stack.iter().position(|p| *p == canonical) {
            let mut chain: Vec<String> = stack[start..]
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            chain.push(canonical.display().to_string());
            return Err(ScenarioError::ExtendsCycle {
                location: included_from.expect("a cycle is closed by an extends key"),
                chain,
            });
        }
        let text = crate::input_file::read_text(
            path,
            crate::input_file::MAX_SCENARIO_BYTES,
            "a scenario file",
        )
        .map_err(read_error)?;
        let source = self.add_source(path.display().to_string(), text);
        let (table, origins, extends) = self.parse_layer(source)?;
        if let Some((target, location)) = extends {
            // Checked before going one file deeper: the chain can never be long enough
            // to exhaust the stack.
            if stack.len() + 1 >= MAX_EXTENDS_DEPTH {
                return Err(ScenarioError::Invalid {
                    key: "extends".into(),
                    location: Some(location),
                    message: format!(
                        "the chain of `extends` is longer than {MAX_EXTENDS_DEPTH} files (the limit); \
                         merge some of its files"
                    ),
                });
            }
            let parent = path.parent().unwrap_or(Path::new(".")).join(target);
            stack.push(canonical);
            self.load_file(&parent, stack, Some(location))?;
            stack.pop();
        }
        self.files.push(path.display().to_string());
        self.merge_layer(table, origins, true);
        Ok(())
    }

    /// Reads a scenario given as text (for example the embedded default). It may not
    /// extend another file: there is no directory to resolve it against.
    pub(crate) fn load_text(&mut self, source_name: &str, text: &str) -> Result<(), ScenarioError> {
        let source = self.add_source(source_name.to_string(), text.to_string());
        let (table, origins, extends) = self.parse_layer(source)?;
        if let Some((_, location)) = extends {
            return Err(ScenarioError::Invalid {
                key: "extends".into(),
                location: Some(location),
                message:
                    "a scenario given as text cannot extend a file; load it from a file instead"
                        .into(),
            });
        }
        self.files.push(source_name.to_string());
        self.merge_layer(table, origins, true);
        Ok(())
    }

    /// Applies one `--set` override as a final layer.
    pub(crate) fn apply_override(&mut self, item: &Override) -> Result<(), ScenarioError> {
        let source = self.add_source(format!("--set {}", item.argument), item.as_toml());
        let (table, origins, _) = self.parse_layer(source)?;
        self.merge_layer(table, origins, false);
        Ok(())
    }

    /// The merged document, typed.
    pub(crate) fn document(&self) -> Result<ScenarioDoc, ScenarioError> {
        ScenarioDoc::deserialize(toml::Value::Table(self.merged.clone())).map_err(|e| {
            ScenarioError::Invalid {
                key: String::new(),
                location: None,
                message: describe_serde_message(e.message()),
            }
        })
    }
}

/// Rewords serde's messages where they are cryptic for a scenario author.
fn describe_serde_message(message: &str) -> String {
    let message = message.trim();
    // serde's "unknown field `x`, expected one of `a`, `b`": the names between backticks.
    let suggestion = |rest: &str| {
        let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        match names.split_first() {
            Some((given, candidates)) => {
                super::error::did_you_mean(given, candidates.iter().copied())
            }
            None => String::new(),
        }
    };
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return format!("unknown key {rest}{}", suggestion(rest));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        // Any enumerated value: a distribution, a lever, a profile, a maintenance mode.
        return format!("unknown value {rest}{}", suggestion(rest));
    }
    message
        .replace("i64", "an integer")
        .replace("f64", "a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_tables_replace_whole() {
        let mut base: toml::Table =
            toml::from_str("[a]\nx = { dist = \"triangular\", min = 0, mode = 1, max = 2 }\ny = 1")
                .unwrap();
        let layer: toml::Table =
            toml::from_str("[a]\nx = { dist = \"uniform\", min = 0, max = 3 }").unwrap();
        merge_tables(&mut base, layer);
        let x = base["a"]["x"].as_table().unwrap();
        assert!(!x.contains_key("mode"));
        assert_eq!(base["a"]["y"].as_integer(), Some(1));
    }

    #[test]
    fn locations_count_lines_and_columns() {
        let src = Source {
            name: "f.toml".into(),
            text: "a = 1\n[b]\nccc = \"x\"\n".into(),
        };
        let loc = src.location(16..19);
        assert_eq!((loc.line, loc.column, loc.width), (3, 7, 3));
        assert_eq!(loc.line_text, "ccc = \"x\"");
    }

    #[test]
    fn unknown_keys_are_located_with_their_full_path() {
        let mut loaded = Loaded::default();
        let err = loaded
            .load_text(
                "t.toml",
                "[revenue.segments.ai]\ninitial_growth = 0.5\ninitial_grwth = 0.3\n",
            )
            .unwrap_err();
        match err {
            ScenarioError::Invalid {
                key,
                location,
                message,
            } => {
                assert_eq!(key, "revenue.segments.ai.initial_grwth");
                assert_eq!(location.unwrap().line, 3);
                assert!(message.contains("unknown key `initial_grwth`"), "{message}");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn overrides_take_bare_words_as_strings() {
        let o = Override::parse("time.start_quarter=2026Q3").unwrap();
        assert_eq!(o.as_toml(), "time.start_quarter = \"2026Q3\"");
        let o = Override::parse("a.b={ dist = \"uniform\", min = 1, max = 2 }").unwrap();
        assert!(o.as_toml().ends_with("}"));
    }
}
