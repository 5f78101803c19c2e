//! Period rating (包年/包月): list prices of product lines from one catalog
//! version.

pub mod grpc;
pub mod on_demand;
pub mod rounding;

use std::collections::HashSet;

use partner_api::pricing::v1 as pb;
use partner_kernel::error::FieldViolation;
use partner_kernel::money::Money;
use rust_decimal::Decimal;

use crate::catalog::Version;
use crate::catalog::document::{PeriodUnit, ResourceType};
use crate::error::PricingError;

/// At most this many lines per request.
pub const MAX_LINES: usize = 100;

/// Months a renewal may run (the vendor's rule).
pub const RENEWAL_MONTHS: (i32, i32) = (1, 11);
/// Years a renewal may run.
pub const RENEWAL_YEARS: (i32, i32) = (1, 3);

/// Why period lines are rated: the count rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A purchase: the product's own period limits.
    Purchase,
    /// A renewal of existing resources: months 1 to 11 or years 1 to 3, by
    /// a period unit the product is sold by.
    Renewal,
}

/// One line to rate, after parsing.
#[derive(Debug, Clone)]
pub struct Line {
    pub line_id: String,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    pub zone: String,
    pub size: i64,
    pub period_unit: PeriodUnit,
    pub period_count: i32,
    pub quantity: i32,
}

/// A rated line.
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub line_id: String,
    pub unit_price: Decimal,
    pub list_amount: Money,
}

/// Checks the shape of a request (its line ids): 1 to 100 lines with unique ids.
pub fn check_lines(ids: &[&str]) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    if ids.is_empty() || ids.len() > MAX_LINES {
        out.push(FieldViolation::new(
            "lines",
            format!("1 to {MAX_LINES} lines"),
        ));
    }
    // Sorting a copy finds whether any id repeats without hashing each one;
    // only then are the repeats named.
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    if sorted.windows(2).all(|w| w[0] != w[1]) {
        return out;
    }
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(*id) {
            out.push(FieldViolation::new(
                format!("lines[{i}].line_id"),
                "line ids are unique in a request",
            ));
        }
    }
    out
}

/// Checks the attachments of period lines: a line naming a `main_line_id`
/// names another line of the request, attached to none itself, with the
/// same period unit, period count, quantity and region (each of its
/// resources attaches to one of the main line's).
pub fn check_attachments(lines: &[pb::PeriodProductLine]) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.main_line_id.is_empty() {
            continue;
        }
        let field = format!("lines[{i}].main_line_id");
        let main = lines
            .iter()
            .find(|m| m.line_id == l.main_line_id && !std::ptr::eq(*m, l));
        let why = match main {
            None => "names another line of the request",
            Some(m) if !m.main_line_id.is_empty() => "names a line attached to none itself",
            Some(m)
                if (m.period_unit, m.period_count, m.quantity, m.region.as_str())
                    != (l.period_unit, l.period_count, l.quantity, l.region.as_str()) =>
            {
                "names a line of the same period unit, period count, quantity and region"
            }
            Some(_) => continue,
        };
        out.push(FieldViolation::new(field, why));
    }
    out
}

/// Rates `lines` against `catalog`. The first line naming nothing the
/// catalog sells (service type, resource type, spec, region, zone, or a price
/// in that region for a period unit the product is sold by) is
/// `PRODUCT_NOT_FOUND`, and answers alone; otherwise every line breaking its
/// product's rules (period unit, count, size, quantity) is a field violation,
/// all of them at once. A line's amount is computed only once its values
/// passed the rules, with checked arithmetic.
pub fn rate_period(
    catalog: &Version,
    lines: &[Line],
    purpose: Purpose,
) -> Result<Vec<Rated>, PricingError> {
    let mut rated = Vec::with_capacity(lines.len());
    let mut violations = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let kind = locate(catalog, &line.product())?;
        let at = |field: &str| format!("lines[{i}].{field}");
        let before = violations.len();
        let Some(limit) = kind.periods.iter().find(|p| p.unit == line.period_unit) else {
            violations.push(FieldViolation::new(
                at("period_unit"),
                "not a period this product is sold for",
            ));
            continue;
        };
        let limit = match purpose {
            Purpose::Purchase => (limit.min, limit.max),
            Purpose::Renewal => match line.period_unit {
                PeriodUnit::Month => RENEWAL_MONTHS,
                PeriodUnit::Year => RENEWAL_YEARS,
                PeriodUnit::Day | PeriodUnit::Hour => {
                    violations.push(FieldViolation::new(
                        at("period_unit"),
                        "renewals are by MONTH or YEAR",
                    ));
                    continue;
                }
            },
        };
        let price = catalog
            .spec(&line.service_type, &line.resource_type, &line.spec)
            .and_then(|(_, prices)| prices.get(&line.region))
            .and_then(|by_unit| by_unit.get(&line.period_unit))
            .copied()
            .ok_or_else(|| PricingError::ProductNotFound {
                line_id: line.line_id.clone(),
                what: "price for that region and period unit",
            })?;
        if !(limit.0..=limit.1).contains(&line.period_count) {
            violations.push(FieldViolation::new(
                at("period_count"),
                format!("{} to {}", limit.0, limit.1),
            ));
        }
        let size = check_size_and_quantity(kind, line.size, line.quantity, i, &mut violations);
        if violations.len() > before {
            continue;
        }
        let amount = price
            .checked_mul(Decimal::from(size))
            .and_then(|a| a.checked_mul(Decimal::from(line.period_count)))
            .and_then(|a| a.checked_mul(Decimal::from(line.quantity)))
            .and_then(|a| rounding::to_minor(a, catalog.currency));
        match amount {
            Some(list_amount) => rated.push(Rated {
                line_id: line.line_id.clone(),
                unit_price: price,
                list_amount,
            }),
            None => violations.push(FieldViolation::new(
                at("quantity"),
                "the amount is too large",
            )),
        }
    }
    if violations.is_empty() {
        Ok(rated)
    } else {
        Err(PricingError::Kernel(
            partner_kernel::error::KernelError::Invalid(violations),
        ))
    }
}

/// What names a product in a line.
#[derive(Debug, Clone, Copy)]
pub struct ProductRef<'a> {
    pub line_id: &'a str,
    pub service_type: &'a str,
    pub resource_type: &'a str,
    pub spec: &'a str,
    pub region: &'a str,
    pub zone: &'a str,
}

impl Line {
    pub fn product(&self) -> ProductRef<'_> {
        ProductRef {
            line_id: &self.line_id,
            service_type: &self.service_type,
            resource_type: &self.resource_type,
            spec: &self.spec,
            region: &self.region,
            zone: &self.zone,
        }
    }
}

/// The resource type of a line's product, once its service type, resource
/// type, spec, region and zone all exist; else `PRODUCT_NOT_FOUND` naming
/// the first missing.
pub fn locate<'c>(
    catalog: &'c Version,
    p: &ProductRef<'_>,
) -> Result<&'c ResourceType, PricingError> {
    let not_found = |what: &'static str| PricingError::ProductNotFound {
        line_id: p.line_id.to_owned(),
        what,
    };
    if !catalog.sells_service(p.service_type) {
        return Err(not_found("service type"));
    }
    let kind = catalog
        .resource_type(p.service_type, p.resource_type)
        .ok_or_else(|| not_found("resource type"))?;
    catalog
        .spec(p.service_type, p.resource_type, p.spec)
        .ok_or_else(|| not_found("spec"))?;
    let zones = catalog
        .zones_of(p.region)
        .ok_or_else(|| not_found("region"))?;
    if !p.zone.is_empty() && !zones.iter().any(|z| z == p.zone) {
        return Err(not_found("zone"));
    }
    Ok(kind)
}

/// Checks a line's size (linear products: within the rule and on a step;
/// others: 0) and quantity (1 to the most per line), adding a violation of
/// `lines[i]` for each broken rule; returns the size to multiply by (1 for
/// products without one).
pub fn check_size_and_quantity(
    kind: &ResourceType,
    size: i64,
    quantity: i32,
    i: usize,
    violations: &mut Vec<FieldViolation>,
) -> i64 {
    let at = |field: &str| format!("lines[{i}].{field}");
    if !(1..=kind.max_quantity).contains(&quantity) {
        violations.push(FieldViolation::new(
            at("quantity"),
            format!("1 to {}", kind.max_quantity),
        ));
    }
    match &kind.size {
        Some(rule) => {
            let fits = (rule.min..=rule.max).contains(&size) && (size - rule.min) % rule.step == 0;
            if !fits {
                violations.push(FieldViolation::new(
                    at("size"),
                    format!(
                        "{} to {} {}, in steps of {}",
                        rule.min, rule.max, rule.unit, rule.step
                    ),
                ));
            }
            size
        }
        None => {
            if size != 0 {
                violations.push(FieldViolation::new(at("size"), "0: not a linear product"));
            }
            1
        }
    }
}

/// The period unit of the wire, if it is one.
pub fn period_unit(raw: i32) -> Option<PeriodUnit> {
    match pb::PeriodUnit::try_from(raw).ok()? {
        pb::PeriodUnit::Hour => Some(PeriodUnit::Hour),
        pb::PeriodUnit::Day => Some(PeriodUnit::Day),
        pb::PeriodUnit::Month => Some(PeriodUnit::Month),
        pb::PeriodUnit::Year => Some(PeriodUnit::Year),
        pb::PeriodUnit::Unspecified => None,
    }
}

/// The wire form of a period unit.
pub fn period_unit_to_proto(unit: PeriodUnit) -> pb::PeriodUnit {
    match unit {
        PeriodUnit::Hour => pb::PeriodUnit::Hour,
        PeriodUnit::Day => pb::PeriodUnit::Day,
        PeriodUnit::Month => pb::PeriodUnit::Month,
        PeriodUnit::Year => pb::PeriodUnit::Year,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::catalog::DEMO;
    use crate::catalog::document::Document;

    fn demo() -> Version {
        let doc: Document = serde_json::from_str(DEMO).expect("demo");
        Version::new(1, chrono::DateTime::UNIX_EPOCH, doc).expect("usable")
    }

    /// A valid line of the demo catalog chosen by the numbers given.
    fn valid_line(v: &Version, pick: (usize, usize, usize), n: (i32, i32, i64)) -> Option<Line> {
        let priced: Vec<_> = v
            .doc
            .specs
            .iter()
            .filter(|s| !s.prices.is_empty())
            .collect();
        let spec = priced[pick.0 % priced.len()];
        let kind = v.resource_type(&spec.service_type, &spec.resource_type)?;
        let regions: Vec<_> = spec.prices.keys().collect();
        let region = regions[pick.1 % regions.len()];
        let units: Vec<_> = spec.prices[region].keys().collect();
        let unit = *units[pick.2 % units.len()];
        let limit = kind.periods.iter().find(|p| p.unit == unit)?;
        let count = limit.min + n.0.rem_euclid(limit.max - limit.min + 1);
        let quantity = 1 + n.1.rem_euclid(kind.max_quantity);
        let size = kind.size.as_ref().map_or(0, |r| {
            r.min + n.2.rem_euclid((r.max - r.min) / r.step + 1) * r.step
        });
        Some(Line {
            line_id: "l".into(),
            service_type: spec.service_type.clone(),
            resource_type: spec.resource_type.clone(),
            spec: spec.id.clone(),
            region: region.clone(),
            zone: String::new(),
            size,
            period_unit: unit,
            period_count: count,
            quantity,
        })
    }

    proptest! {
        /// Every valid line rates, to its exact amount rounded to the minor
        /// unit (within half a minor unit), never below zero.
        #[test]
        fn valid_lines_rate_to_their_rounded_exact_amount(
            pick in (0usize..1000, 0usize..10, 0usize..10),
            n in (0i32..1000, 0i32..1000, 0i64..100_000),
        ) {
            let v = demo();
            let line = valid_line(&v, pick, n).expect("a valid line");
            let rated = rate_period(&v, std::slice::from_ref(&line), Purpose::Purchase).expect("rates");
            let size = if line.size == 0 { 1 } else { line.size };
            let exact = rated[0].unit_price
                * Decimal::from(size)
                * Decimal::from(line.period_count)
                * Decimal::from(line.quantity)
                * Decimal::from(100);
            let minor = Decimal::from(rated[0].list_amount.minor());
            prop_assert!(minor >= Decimal::ZERO);
            prop_assert!((minor - exact).abs() <= Decimal::new(5, 1), "{minor} vs {exact}");
        }
    }
}
