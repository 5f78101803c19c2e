//! The catalog as a document: what an import supplies and a version stores.
//! Prices are decimal strings (never floats), checked when the document is
//! checked, so rating never meets a malformed one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use partner_kernel::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Prices carry at most this many decimals (the proto's nanos).
pub const MAX_PRICE_DECIMALS: u32 = 9;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub currency: String,
    pub regions: Vec<Region>,
    pub usage_factors: Vec<UsageFactor>,
    pub measure_units: Vec<MeasureUnit>,
    pub service_types: Vec<ServiceType>,
    pub resource_types: Vec<ResourceType>,
    pub specs: Vec<Spec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageFactor {
    pub id: String,
    pub name: String,
    pub base_unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureUnit {
    pub id: String,
    pub usage_factor: String,
    pub to_base: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceType {
    pub id: String,
    pub name: String,
}

impl PeriodUnit {
    /// The name the document uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "HOUR",
            Self::Day => "DAY",
            Self::Month => "MONTH",
            Self::Year => "YEAR",
        }
    }
}

/// A period unit as the document names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PeriodUnit {
    #[serde(rename = "HOUR")]
    Hour,
    #[serde(rename = "DAY")]
    Day,
    #[serde(rename = "MONTH")]
    Month,
    #[serde(rename = "YEAR")]
    Year,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodLimit {
    pub unit: PeriodUnit,
    pub min: i32,
    pub max: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeRule {
    pub unit: String,
    pub min: i64,
    pub max: i64,
    pub step: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceType {
    pub service_type: String,
    pub id: String,
    pub name: String,
    pub periods: Vec<PeriodLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<SizeRule>,
    pub max_quantity: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub service_type: String,
    pub resource_type: String,
    pub id: String,
    pub name: String,
    /// Region → period unit → price of one resource (one size unit) for one period.
    pub prices: BTreeMap<String, BTreeMap<PeriodUnit, String>>,
    /// Region → usage factor → on-demand price of one resource (one size
    /// unit) per `unit` of the factor. Empty: not sold on demand.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub usage_prices: BTreeMap<String, BTreeMap<String, UsagePrice>>,
}

/// An on-demand price: `price` per `unit` (a measure unit of the factor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsagePrice {
    pub unit: String,
    pub price: String,
}

/// A non-negative decimal written plainly (digits and at most one point:
/// no sign, exponent or separators).
pub fn plain_decimal(raw: &str) -> Result<Decimal, String> {
    if raw.starts_with('-') {
        return Err(format!("`{raw:.32}` is negative"));
    }
    let plain = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && raw.bytes().filter(|b| *b == b'.').count() <= 1;
    if !plain {
        return Err(format!("`{raw:.32}` is not a plain decimal"));
    }
    Decimal::from_str(raw).map_err(|_| format!("`{raw:.32}` is not a decimal"))
}

/// The highest price a catalog may hold (of one unit for one period), so no
/// valid line's amount comes near what a decimal or a `Money` holds.
pub const MAX_PRICE_UNITS: i64 = 1_000_000_000_000;

/// A price as stored: a non-negative decimal with at most 9 decimals, at
/// most [`MAX_PRICE_UNITS`].
pub fn price(raw: &str) -> Result<Decimal, String> {
    let d = plain_decimal(raw)?;
    if d > Decimal::from(MAX_PRICE_UNITS) {
        return Err(format!("`{raw:.32}` is above {MAX_PRICE_UNITS}"));
    }
    if d.scale() > MAX_PRICE_DECIMALS {
        return Err(format!(
            "`{raw:.32}` has more than {MAX_PRICE_DECIMALS} decimals"
        ));
    }
    Ok(d)
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

impl Document {
    /// Every problem of the document, each naming where it is; empty: usable.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if Currency::parse(&self.currency).is_err() {
            out.push(format!(
                "currency: `{:.8}` is not a supported currency",
                self.currency
            ));
        }
        // Named by the second element's path, so an import can tell its line.
        let unique = |at: String,
                      kind: &str,
                      key: String,
                      out: &mut Vec<String>,
                      seen: &mut HashSet<String>| {
            if !seen.insert(key.clone()) {
                out.push(format!("{at}: {kind} `{key:.200}` appears twice"));
            }
        };
        let mut seen = HashSet::new();
        for (i, r) in self.regions.iter().enumerate() {
            if !id_ok(&r.id) || r.zones.iter().any(|z| !id_ok(z)) {
                out.push(format!("regions[{i}]: ids are 1-64 of [A-Za-z0-9._-]"));
            }
            unique(
                format!("regions[{i}]"),
                "region",
                r.id.clone(),
                &mut out,
                &mut seen,
            );
        }
        let regions: HashSet<&str> = self.regions.iter().map(|r| r.id.as_str()).collect();
        let mut seen = HashSet::new();
        for (i, f) in self.usage_factors.iter().enumerate() {
            if !id_ok(&f.id) {
                out.push(format!("usage_factors[{i}]: bad id"));
            }
            unique(
                format!("usage_factors[{i}]"),
                "usage factor",
                f.id.clone(),
                &mut out,
                &mut seen,
            );
        }
        let factors: HashSet<&str> = self.usage_factors.iter().map(|f| f.id.as_str()).collect();
        let mut seen = HashSet::new();
        for (i, u) in self.measure_units.iter().enumerate() {
            if !factors.contains(u.usage_factor.as_str()) {
                out.push(format!(
                    "measure_units[{i}]: no usage factor `{:.64}`",
                    u.usage_factor
                ));
            }
            // A conversion factor, not a price: any precision a decimal holds.
            match plain_decimal(&u.to_base) {
                Ok(d) if !d.is_zero() => {}
                _ => out.push(format!(
                    "measure_units[{i}]: to_base must be a positive decimal"
                )),
            }
            unique(
                format!("measure_units[{i}]"),
                "measure unit",
                format!("{}/{}", u.usage_factor, u.id),
                &mut out,
                &mut seen,
            );
        }
        let mut seen = HashSet::new();
        for (i, s) in self.service_types.iter().enumerate() {
            if !id_ok(&s.id) {
                out.push(format!("service_types[{i}]: bad id"));
            }
            unique(
                format!("service_types[{i}]"),
                "service type",
                s.id.clone(),
                &mut out,
                &mut seen,
            );
        }
        let services: HashSet<&str> = self.service_types.iter().map(|s| s.id.as_str()).collect();
        let mut seen = HashSet::new();
        for (i, t) in self.resource_types.iter().enumerate() {
            let at = format!("resource_types[{i}]");
            if !id_ok(&t.id) {
                out.push(format!("{at}: bad id"));
            }
            if !services.contains(t.service_type.as_str()) {
                out.push(format!("{at}: no service type `{:.64}`", t.service_type));
            }
            if t.max_quantity < 1 {
                out.push(format!("{at}: max_quantity must be at least 1"));
            }
            let mut units = HashSet::new();
            for p in &t.periods {
                if p.min < 1 || p.max < p.min {
                    out.push(format!("{at}: a period limit needs 1 <= min <= max"));
                }
                if !units.insert(p.unit) {
                    out.push(format!("{at}: period unit {:?} twice", p.unit));
                }
            }
            if let Some(size) = &t.size
                && (size.min < 1 || size.max < size.min || size.step < 1)
            {
                out.push(format!("{at}: size needs 1 <= min <= max and step >= 1"));
            }
            unique(
                at.clone(),
                "resource type",
                format!("{}/{}", t.service_type, t.id),
                &mut out,
                &mut seen,
            );
        }
        // Indexed once: a catalog may hold tens of thousands of specs.
        let kinds: HashMap<(&str, &str), usize> = self
            .resource_types
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.service_type.as_str(), t.id.as_str()), i))
            .collect();
        let units: HashSet<(&str, &str)> = self
            .measure_units
            .iter()
            .map(|u| (u.usage_factor.as_str(), u.id.as_str()))
            .collect();
        let mut seen = HashSet::new();
        for (i, s) in self.specs.iter().enumerate() {
            let at = format!("specs[{i}]");
            if !id_ok(&s.id) {
                out.push(format!("{at}: bad id"));
            }
            let kind = kinds
                .get(&(s.service_type.as_str(), s.resource_type.as_str()))
                .map(|i| &self.resource_types[*i]);
            let Some(kind) = kind else {
                out.push(format!(
                    "{at}: no resource type `{:.64}/{:.64}`",
                    s.service_type, s.resource_type
                ));
                continue;
            };
            for (region, by_unit) in &s.prices {
                if !regions.contains(region.as_str()) {
                    out.push(format!("{at}: no region `{region:.64}`"));
                }
                for (unit, amount) in by_unit {
                    if !kind.periods.iter().any(|p| p.unit == *unit) {
                        out.push(format!(
                            "{at}: {unit:?} is not a period of its resource type"
                        ));
                    }
                    if let Err(e) = price(amount) {
                        out.push(format!("{at}: {region} {unit:?}: {e}"));
                    }
                }
            }
            for (region, by_factor) in &s.usage_prices {
                if !regions.contains(region.as_str()) {
                    out.push(format!("{at}: usage_prices: no region `{region:.64}`"));
                }
                for (factor, p) in by_factor {
                    let known = units.contains(&(factor.as_str(), p.unit.as_str()));
                    if !known {
                        out.push(format!(
                            "{at}: usage_prices: `{:.64}` is not a measure unit of usage factor `{factor:.64}`",
                            p.unit
                        ));
                    }
                    if let Err(e) = price(&p.price) {
                        out.push(format!("{at}: usage_prices: {region} {factor}: {e}"));
                    }
                }
            }
            unique(
                at.clone(),
                "spec",
                format!("{}/{}/{}", s.service_type, s.resource_type, s.id),
                &mut out,
                &mut seen,
            );
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalog_is_usable() {
        let doc: Document = serde_json::from_str(crate::catalog::DEMO).expect("the demo parses");
        assert_eq!(doc.problems(), Vec::<String>::new());
        assert!(doc.regions.len() >= 3);
        assert!(doc.specs.len() >= 10);
    }

    #[test]
    fn problems_are_named() {
        let mut doc: Document =
            serde_json::from_str(crate::catalog::DEMO).expect("the demo parses");
        doc.specs[0]
            .prices
            .values_mut()
            .next()
            .expect("a region")
            .insert(PeriodUnit::Month, "-1".into());
        doc.specs[1].resource_type = "nope".into();
        doc.regions.push(doc.regions[0].clone());
        let problems = doc.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("specs[0]") && p.contains("negative")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("specs[1]") && p.contains("no resource type"))
        );
        assert!(problems.iter().any(|p| p.contains("appears twice")));
        assert!(price("1.0000000001").is_err());
        assert!(price("1e3").is_err());
        assert_eq!(price("0.000000001").expect("ok").scale(), 9);
    }
}
