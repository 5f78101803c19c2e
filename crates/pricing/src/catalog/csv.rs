//! The catalog as CSV: one fact per row, the first column saying which
//! (docs/pricing.md lists the columns each kind uses). Every row is checked
//! where it stands, and each element of the document it builds remembers
//! its row, so a problem of the whole document names the line too.

use std::collections::{BTreeMap, HashMap};

use super::document::{
    Document, MeasureUnit, PeriodLimit, PeriodUnit, Region, ResourceType, ServiceType, SizeRule,
    Spec, UsageFactor, UsagePrice,
};
use super::import::{Lines, Problem};

/// The header every CSV catalog starts with.
pub const HEADER: &[&str] = &[
    "record",
    "service_type",
    "resource_type",
    "spec",
    "name",
    "region",
    "zones",
    "period_unit",
    "usage_factor",
    "unit",
    "min",
    "max",
    "step",
    "max_quantity",
    "price",
    "to_base",
    "currency",
];

/// One row's fields by column name.
struct Row<'a> {
    line: usize,
    cells: Vec<&'a str>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        HEADER
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.cells.get(i).copied())
            .unwrap_or("")
    }

    fn number<T: std::str::FromStr>(&self, column: &str) -> Result<T, Problem> {
        self.get(column).parse().map_err(|_| Problem {
            line: Some(self.line),
            message: format!("{column}: `{:.32}` is not a whole number", self.get(column)),
        })
    }

    fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(self.line),
            message: message.into(),
        }
    }
}

/// Splits one CSV record (RFC 4180: fields may be quoted, `""` is a quote
/// inside one). Records do not span lines: no field of a catalog holds one.
fn split(line: &str) -> Result<Vec<&str>, &'static str> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            // Only quotes doubled inside: find the closing one.
            let mut end = None;
            let bytes = quoted.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    end = Some(i);
                    break;
                }
                i += 1;
            }
            let end = end.ok_or("a quoted field is not closed")?;
            let field = &quoted[..end];
            if field.contains("\"\"") {
                return Err("doubled quotes inside a field are not supported");
            }
            cells.push(field);
            rest = &quoted[end + 1..];
            match rest.strip_prefix(',') {
                Some(r) => rest = r,
                None if rest.is_empty() => return Ok(cells),
                None => return Err("text after a closing quote"),
            }
        } else {
            match rest.split_once(',') {
                Some((field, r)) => {
                    cells.push(field);
                    rest = r;
                }
                None => {
                    cells.push(rest);
                    return Ok(cells);
                }
            }
        }
    }
}

fn period_unit(raw: &str) -> Option<PeriodUnit> {
    match raw {
        "HOUR" => Some(PeriodUnit::Hour),
        "DAY" => Some(PeriodUnit::Day),
        "MONTH" => Some(PeriodUnit::Month),
        "YEAR" => Some(PeriodUnit::Year),
        _ => None,
    }
}

/// Where rows find the elements earlier rows made (a catalog may hold tens
/// of thousands of rows: no scans per row).
#[derive(Default)]
struct Index {
    kinds: HashMap<(String, String), usize>,
    specs: HashMap<(String, String, String), usize>,
}

/// Reads a CSV catalog into a document and where each element came from;
/// every row-level problem is returned at once.
pub fn parse(content: &str) -> Result<(Document, Lines), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut lines_iter = content.lines().enumerate();
    let header = lines_iter.next().map(|(_, l)| l.trim_end_matches('\r'));
    if header != Some(HEADER.join(",").as_str()) {
        return Err(vec![Problem {
            line: Some(1),
            message: format!("the header must be: {}", HEADER.join(",")),
        }]);
    }
    let mut doc = Document {
        currency: String::new(),
        regions: Vec::new(),
        usage_factors: Vec::new(),
        measure_units: Vec::new(),
        service_types: Vec::new(),
        resource_types: Vec::new(),
        specs: Vec::new(),
    };
    let mut at = Lines::default();
    let mut index = Index::default();
    for (i, raw) in lines_iter {
        if problems.len() >= super::import::MAX_PROBLEMS {
            break;
        }
        let line = i + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let cells = match split(raw) {
            Ok(cells) if cells.len() == HEADER.len() => cells,
            Ok(cells) => {
                problems.push(Problem {
                    line: Some(line),
                    message: format!("{} fields; every row has {}", cells.len(), HEADER.len()),
                });
                continue;
            }
            Err(e) => {
                problems.push(Problem {
                    line: Some(line),
                    message: e.to_owned(),
                });
                continue;
            }
        };
        let row = Row { line, cells };
        if let Err(p) = apply(&row, &mut doc, &mut at, &mut index) {
            problems.push(p);
        }
    }
    if doc.currency.is_empty() {
        problems.push(Problem {
            line: None,
            message: "no `currency` row".into(),
        });
    }
    if problems.is_empty() {
        Ok((doc, at))
    } else {
        Err(problems)
    }
}

/// The spec a `price` or `usage_price` row names, which an earlier `spec`
/// row made.
fn spec_of<'d>(
    row: &Row<'_>,
    doc: &'d mut Document,
    index: &Index,
) -> Result<&'d mut Spec, Problem> {
    let key = (
        row.get("service_type").to_owned(),
        row.get("resource_type").to_owned(),
        row.get("spec").to_owned(),
    );
    match index.specs.get(&key) {
        Some(i) => Ok(&mut doc.specs[*i]),
        None => Err(row.problem(format!(
            "no `spec` row above for {:.64}/{:.64}/{:.64}",
            key.0, key.1, key.2
        ))),
    }
}

fn apply(
    row: &Row<'_>,
    doc: &mut Document,
    at: &mut Lines,
    index: &mut Index,
) -> Result<(), Problem> {
    let line = row.line;
    match row.get("record") {
        "currency" => {
            if !doc.currency.is_empty() {
                return Err(row.problem("a second `currency` row"));
            }
            doc.currency = row.get("currency").to_owned();
        }
        "region" => {
            let zones = row.get("zones");
            doc.regions.push(Region {
                id: row.get("region").to_owned(),
                name: row.get("name").to_owned(),
                zones: if zones.is_empty() {
                    Vec::new()
                } else {
                    zones.split('|').map(str::to_owned).collect()
                },
            });
            at.regions.push(line);
        }
        "usage_factor" => {
            doc.usage_factors.push(UsageFactor {
                id: row.get("usage_factor").to_owned(),
                name: row.get("name").to_owned(),
                base_unit: row.get("unit").to_owned(),
            });
            at.usage_factors.push(line);
        }
        "measure_unit" => {
            doc.measure_units.push(MeasureUnit {
                id: row.get("unit").to_owned(),
                usage_factor: row.get("usage_factor").to_owned(),
                to_base: row.get("to_base").to_owned(),
            });
            at.measure_units.push(line);
        }
        "service_type" => {
            doc.service_types.push(ServiceType {
                id: row.get("service_type").to_owned(),
                name: row.get("name").to_owned(),
            });
            at.service_types.push(line);
        }
        "resource_type" => {
            let size = if row.get("unit").is_empty() {
                None
            } else {
                Some(SizeRule {
                    unit: row.get("unit").to_owned(),
                    min: row.number("min")?,
                    max: row.number("max")?,
                    step: row.number("step")?,
                })
            };
            index.kinds.insert(
                (
                    row.get("service_type").to_owned(),
                    row.get("resource_type").to_owned(),
                ),
                doc.resource_types.len(),
            );
            doc.resource_types.push(ResourceType {
                service_type: row.get("service_type").to_owned(),
                id: row.get("resource_type").to_owned(),
                name: row.get("name").to_owned(),
                periods: Vec::new(),
                size,
                max_quantity: row.number("max_quantity")?,
            });
            at.resource_types.push(line);
        }
        "period" => {
            let unit = period_unit(row.get("period_unit"))
                .ok_or_else(|| row.problem("period_unit: HOUR, DAY, MONTH or YEAR"))?;
            let (service, kind) = (row.get("service_type"), row.get("resource_type"));
            let limit = PeriodLimit {
                unit,
                min: row.number("min")?,
                max: row.number("max")?,
            };
            let i = index
                .kinds
                .get(&(service.to_owned(), kind.to_owned()))
                .ok_or_else(|| {
                    row.problem(format!(
                        "no `resource_type` row above for {service:.64}/{kind:.64}"
                    ))
                })?;
            doc.resource_types[*i].periods.push(limit);
        }
        "spec" => {
            index.specs.insert(
                (
                    row.get("service_type").to_owned(),
                    row.get("resource_type").to_owned(),
                    row.get("spec").to_owned(),
                ),
                doc.specs.len(),
            );
            doc.specs.push(Spec {
                service_type: row.get("service_type").to_owned(),
                resource_type: row.get("resource_type").to_owned(),
                id: row.get("spec").to_owned(),
                name: row.get("name").to_owned(),
                prices: BTreeMap::new(),
                usage_prices: BTreeMap::new(),
            });
            at.specs.push(line);
        }
        "price" => {
            let unit = period_unit(row.get("period_unit"))
                .ok_or_else(|| row.problem("period_unit: HOUR, DAY, MONTH or YEAR"))?;
            let region = row.get("region").to_owned();
            let price = row.get("price").to_owned();
            // Checked here too, so a bad price names its own row.
            super::document::price(&price).map_err(|e| row.problem(format!("price: {e}")))?;
            let spec = spec_of(row, doc, index)?;
            if spec
                .prices
                .entry(region)
                .or_default()
                .insert(unit, price)
                .is_some()
            {
                return Err(row.problem("a second price for that region and period unit"));
            }
        }
        "usage_price" => {
            let region = row.get("region").to_owned();
            let factor = row.get("usage_factor").to_owned();
            let price = UsagePrice {
                unit: row.get("unit").to_owned(),
                price: row.get("price").to_owned(),
            };
            super::document::price(&price.price).map_err(|e| row.problem(format!("price: {e}")))?;
            let spec = spec_of(row, doc, index)?;
            if spec
                .usage_prices
                .entry(region)
                .or_default()
                .insert(factor, price)
                .is_some()
            {
                return Err(row.problem("a second usage price for that region and factor"));
            }
        }
        other => {
            return Err(row.problem(format!(
                "record: `{other:.32}` is not one of currency, region, usage_factor, measure_unit, service_type, resource_type, period, spec, price, usage_price"
            )));
        }
    }
    Ok(())
}

/// The document as CSV, in the order [`parse`] reads it back.
pub fn write(doc: &Document) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    let mut row = |cells: &[(&str, &str)]| {
        let line: Vec<String> = HEADER
            .iter()
            .map(|h| {
                let v = cells.iter().find(|(k, _)| k == h).map_or("", |(_, v)| *v);
                if v.contains(',') || v.contains('"') {
                    format!("\"{v}\"")
                } else {
                    v.to_owned()
                }
            })
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    };
    row(&[("record", "currency"), ("currency", &doc.currency)]);
    for r in &doc.regions {
        row(&[
            ("record", "region"),
            ("region", &r.id),
            ("name", &r.name),
            ("zones", &r.zones.join("|")),
        ]);
    }
    for f in &doc.usage_factors {
        row(&[
            ("record", "usage_factor"),
            ("usage_factor", &f.id),
            ("name", &f.name),
            ("unit", &f.base_unit),
        ]);
    }
    for u in &doc.measure_units {
        row(&[
            ("record", "measure_unit"),
            ("usage_factor", &u.usage_factor),
            ("unit", &u.id),
            ("to_base", &u.to_base),
        ]);
    }
    for s in &doc.service_types {
        row(&[
            ("record", "service_type"),
            ("service_type", &s.id),
            ("name", &s.name),
        ]);
    }
    for t in &doc.resource_types {
        let q = t.max_quantity.to_string();
        let (min, max, step) = t
            .size
            .as_ref()
            .map_or((String::new(), String::new(), String::new()), |s| {
                (s.min.to_string(), s.max.to_string(), s.step.to_string())
            });
        let unit = t.size.as_ref().map_or("", |s| s.unit.as_str());
        row(&[
            ("record", "resource_type"),
            ("service_type", &t.service_type),
            ("resource_type", &t.id),
            ("name", &t.name),
            ("max_quantity", &q),
            ("unit", unit),
            ("min", &min),
            ("max", &max),
            ("step", &step),
        ]);
        for p in &t.periods {
            let (min, max) = (p.min.to_string(), p.max.to_string());
            row(&[
                ("record", "period"),
                ("service_type", &t.service_type),
                ("resource_type", &t.id),
                ("period_unit", p.unit.as_str()),
                ("min", &min),
                ("max", &max),
            ]);
        }
    }
    for s in &doc.specs {
        let key = [
            ("service_type", s.service_type.as_str()),
            ("resource_type", s.resource_type.as_str()),
            ("spec", s.id.as_str()),
        ];
        row(&[
            key[0],
            key[1],
            key[2],
            ("record", "spec"),
            ("name", &s.name),
        ]);
        for (region, by_unit) in &s.prices {
            for (unit, price) in by_unit {
                row(&[
                    key[0],
                    key[1],
                    key[2],
                    ("record", "price"),
                    ("region", region),
                    ("period_unit", unit.as_str()),
                    ("price", price),
                ]);
            }
        }
        for (region, by_factor) in &s.usage_prices {
            for (factor, p) in by_factor {
                row(&[
                    key[0],
                    key[1],
                    key[2],
                    ("record", "usage_price"),
                    ("region", region),
                    ("usage_factor", factor),
                    ("unit", &p.unit),
                    ("price", &p.price),
                ]);
            }
        }
    }
    out
}
