//! Importing a catalog: a whole document in YAML (the shape of
//! `catalog/demo.json`) or CSV (`csv.rs`), checked as a whole, every problem
//! reported with the line of the file it is on; nothing is stored unless
//! there are none. A stored import is the next version, in force from the
//! time given.

use std::fmt;

use super::csv;
use super::document::Document;

/// The largest file an import takes.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// At most this many problems are reported.
pub const MAX_PROBLEMS: usize = 100;

/// How an import is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Csv,
}

impl Format {
    /// The format of a file name's extension.
    pub fn of_path(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Self::Yaml)
        } else if lower.ends_with(".csv") {
            Some(Self::Csv)
        } else {
            None
        }
    }
}

/// One problem of a file, on a line when it can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The line each element of a parsed document starts on.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    pub regions: Vec<usize>,
    pub usage_factors: Vec<usize>,
    pub measure_units: Vec<usize>,
    pub service_types: Vec<usize>,
    pub resource_types: Vec<usize>,
    pub specs: Vec<usize>,
}

impl Lines {
    fn section(&mut self, key: &str) -> Option<&mut Vec<usize>> {
        Some(match key {
            "regions" => &mut self.regions,
            "usage_factors" => &mut self.usage_factors,
            "measure_units" => &mut self.measure_units,
            "service_types" => &mut self.service_types,
            "resource_types" => &mut self.resource_types,
            "specs" => &mut self.specs,
            _ => return None,
        })
    }

    /// The line of the element a document problem starts with
    /// (`specs[3]: …`).
    fn of(&mut self, problem: &str) -> Option<usize> {
        let (key, rest) = problem.split_once('[')?;
        let (index, _) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        self.section(key)?.get(index).copied()
    }
}

/// Where each element of a YAML catalog starts: the items of each top-level
/// sequence written in block style (`specs:` then `- …` lines). Elements of
/// flow-style sequences are not found; their problems name their path only.
fn yaml_lines(content: &str) -> Lines {
    let mut lines = Lines::default();
    let mut section: Option<String> = None;
    let mut item_indent: Option<usize> = None;
    for (i, raw) in content.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = raw.len() - trimmed.len();
        if indent == 0 && !trimmed.starts_with('-') {
            section = trimmed.split_once(':').map(|(k, _)| k.trim().to_owned());
            item_indent = None;
            continue;
        }
        let Some(key) = &section else { continue };
        if trimmed.starts_with("- ") || trimmed == "-" {
            let top = *item_indent.get_or_insert(indent);
            if indent == top
                && let Some(list) = lines.section(key)
            {
                list.push(i + 1);
            }
        }
    }
    lines
}

/// Refuses YAML anchors (`&a`) and aliases (`*a`): a catalog needs none,
/// and a few kilobytes of aliases can expand to gigabytes. An indicator
/// counts where a node starts (after indentation, `- `, `: `, `[`, `{`,
/// `,` or `?`) outside quotes; a `&` inside a name (`R&D`) is text.
fn refuse_anchors(content: &str) -> Result<(), Problem> {
    for (i, line) in content.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut previous: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if previous.is_none_or(|p| "-:[{,?".contains(p)) => {
                    quote = Some(c);
                }
                (None, '#') if previous.is_none() => break,
                (None, '&' | '*') if previous.is_none_or(|p| "-:[{,?".contains(p)) => {
                    return Err(Problem {
                        line: Some(i + 1),
                        message: "anchors and aliases (`&`, `*`) are not accepted".into(),
                    });
                }
                _ => {}
            }
            if !c.is_whitespace() {
                previous = Some(c);
            }
        }
    }
    Ok(())
}

fn yaml(content: &str) -> Result<(Document, Lines), Vec<Problem>> {
    refuse_anchors(content).map_err(|p| vec![p])?;
    match yaml_serde::from_str::<Document>(content) {
        Ok(doc) => Ok((doc, yaml_lines(content))),
        Err(e) => {
            let line = e.location().map(|l| l.line());
            // The message without the position it repeats.
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            Err(vec![Problem { line, message }])
        }
    }
}

/// Reads and checks a catalog file: the document, or every problem (at
/// most [`MAX_PROBLEMS`]) with its line.
pub fn parse(format: Format, content: &str) -> Result<Document, Vec<Problem>> {
    if content.len() > MAX_BYTES {
        return Err(vec![Problem {
            line: None,
            message: format!("larger than {MAX_BYTES} bytes"),
        }]);
    }
    let (doc, mut lines) = match format {
        Format::Yaml => yaml(content),
        Format::Csv => csv::parse(content),
    }
    .map_err(|mut p| {
        p.truncate(MAX_PROBLEMS);
        p
    })?;
    let problems: Vec<Problem> = doc
        .problems()
        .into_iter()
        .take(MAX_PROBLEMS)
        .map(|message| Problem {
            line: lines.of(&message),
            message,
        })
        .collect();
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::DEMO;

    fn demo() -> Document {
        serde_json::from_str(DEMO).expect("demo")
    }

    #[test]
    fn the_demo_round_trips_through_yaml_and_csv() {
        let yaml = yaml_serde::to_string(&demo()).expect("yaml");
        assert_eq!(parse(Format::Yaml, &yaml).expect("yaml parses"), demo());
        let csv = csv::write(&demo());
        assert_eq!(parse(Format::Csv, &csv).expect("csv parses"), demo());
    }

    #[test]
    fn yaml_problems_name_their_lines() {
        let yaml = yaml_serde::to_string(&demo()).expect("yaml");
        // The fourth spec's resource type, made unknown.
        let spec_lines: Vec<usize> = yaml_lines(&yaml).specs;
        let target = spec_lines[3];
        let mut lines: Vec<String> = yaml.lines().map(str::to_owned).collect();
        let at = lines
            .iter()
            .enumerate()
            .skip(target - 1)
            .find(|(_, l)| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .starts_with("resource_type:")
            })
            .map(|(i, _)| i)
            .expect("a resource_type line");
        lines[at] = lines[at].replace("resource_type: vm", "resource_type: nope");
        let problems = parse(Format::Yaml, &lines.join("\n")).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(target));
        assert!(
            problems[0].message.contains("no resource type"),
            "{problems:?}"
        );
        // A syntax error names its line.
        let broken = format!("{}\n  : [\n", yaml);
        let problems = parse(Format::Yaml, &broken).unwrap_err();
        assert!(problems[0].line.is_some(), "{problems:?}");
    }

    #[test]
    fn anchors_and_aliases_are_refused_but_ampersands_in_text_are_not() {
        for bad in [
            "regions: [&r {id: a, name: b, zones: []}, *r]",
            "currency: CNY\nregions:\n  - &r\n    id: a\n  - *r",
            "name: *x",
        ] {
            let problem = refuse_anchors(bad).unwrap_err();
            assert!(problem.message.contains("anchors"), "{bad}");
        }
        for fine in [
            "name: R&D",
            "name: \"*starred\"",
            "name: 'a, *b'",
            "price: 2 * 3",
            "# *x",
        ] {
            assert!(refuse_anchors(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn csv_problems_name_their_rows() {
        let csv = csv::write(&demo());
        let mut rows: Vec<String> = csv.lines().map(str::to_owned).collect();
        // A negative price on one row, an unknown region on another, and a
        // row of an unknown kind.
        let set = |row: &str, column: usize, value: &str| {
            let mut cells: Vec<&str> = row.split(',').collect();
            cells[column] = value;
            cells.join(",")
        };
        let price_row = rows.iter().position(|r| r.starts_with("price,")).unwrap();
        rows[price_row] = set(&rows[price_row], 5, "mars-1");
        let other_price = rows.iter().rposition(|r| r.starts_with("price,")).unwrap();
        rows[other_price] = set(&rows[other_price], 14, "-5");
        rows.push("discount,,,,,,,,,,,,,,,,".into());
        let problems = parse(Format::Csv, &rows.join("\n")).unwrap_err();
        let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
        assert_eq!(
            lines,
            vec![Some(other_price + 1), Some(rows.len())],
            "{problems:?}"
        );
        // Fixing the row-level ones leaves the document's: the unknown
        // region, on the spec's row.
        rows.pop();
        rows[other_price] = csv.lines().nth(other_price).unwrap().to_owned();
        let problems = parse(Format::Csv, &rows.join("\n")).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("mars-1"));
        let spec_row = rows[..price_row]
            .iter()
            .rposition(|r| r.starts_with("spec,"))
            .unwrap();
        assert_eq!(problems[0].line, Some(spec_row + 1));
    }
}
