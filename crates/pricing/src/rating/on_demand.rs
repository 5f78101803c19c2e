//! On-demand rating (按需): what a measured use of a product costs at list
//! prices, kept to 9 decimals (docs/pricing.md).

use partner_kernel::error::{FieldViolation, KernelError};
use rust_decimal::Decimal;

use super::{ProductRef, check_size_and_quantity, locate, rounding};
use crate::catalog::Version;
use crate::error::PricingError;

/// The most a usage value may be (in its unit).
pub const MAX_USAGE_VALUE: i64 = 1_000_000_000_000;

/// The most a line's on-demand amount may be, in whole units.
pub const MAX_AMOUNT_UNITS: i64 = 1_000_000_000_000_000;

/// One on-demand line, after parsing.
#[derive(Debug, Clone)]
pub struct UsageLine {
    pub line_id: String,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    pub zone: String,
    pub size: i64,
    pub usage_factor: String,
    /// Positive, at most [`MAX_USAGE_VALUE`], at most 9 decimals.
    pub usage_value: Decimal,
    pub usage_unit: String,
    pub quantity: i32,
}

impl UsageLine {
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

/// A rated on-demand line.
#[derive(Debug, Clone, PartialEq)]
pub struct RatedUsage {
    pub line_id: String,
    /// The list price per `price_unit` of the factor (of one resource, one size unit).
    pub unit_price: Decimal,
    pub price_unit: String,
    /// value (in the price unit) × price × size × quantity, rounded half-up
    /// to 9 decimals.
    pub list_amount: Decimal,
}

/// A usage value as given: a plain positive decimal with at most 9
/// decimals, at most [`MAX_USAGE_VALUE`].
pub fn usage_value(raw: &str) -> Result<Decimal, String> {
    let d = crate::catalog::document::plain_decimal(raw)?;
    if d.is_zero() || d > Decimal::from(MAX_USAGE_VALUE) || d.scale() > 9 {
        return Err(format!(
            "above 0, at most {MAX_USAGE_VALUE}, with at most 9 decimals"
        ));
    }
    Ok(d)
}

/// Rates on-demand lines against `catalog`: refusals as for period lines
/// (`PRODUCT_NOT_FOUND` first, then every broken rule at once), plus a
/// factor the product is not priced by in that region (`PRODUCT_NOT_FOUND`)
/// and a unit that is not one of the factor's (a field violation).
pub fn rate_on_demand(
    catalog: &Version,
    lines: &[UsageLine],
) -> Result<Vec<RatedUsage>, PricingError> {
    let mut rated = Vec::with_capacity(lines.len());
    let mut violations = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let kind = locate(catalog, &line.product())?;
        let rate = catalog
            .usage_prices(&line.service_type, &line.resource_type, &line.spec)
            .and_then(|by_region| by_region.get(&line.region))
            .and_then(|by_factor| by_factor.get(&line.usage_factor))
            .ok_or_else(|| PricingError::ProductNotFound {
                line_id: line.line_id.clone(),
                what: "on-demand price for that region and usage factor",
            })?;
        let before = violations.len();
        let given = catalog.to_base(&line.usage_factor, &line.usage_unit);
        if given.is_none() {
            violations.push(FieldViolation::new(
                format!("lines[{i}].usage_unit"),
                format!("a measure unit of {}", line.usage_factor),
            ));
        }
        let size = check_size_and_quantity(kind, line.size, line.quantity, i, &mut violations);
        let Some(given) = given.filter(|_| violations.len() == before) else {
            continue;
        };
        // Multiplying before dividing keeps exact what is exact.
        let amount = line
            .usage_value
            .checked_mul(given)
            .and_then(|v| v.checked_mul(rate.price))
            .and_then(|v| v.checked_mul(Decimal::from(size)))
            .and_then(|v| v.checked_mul(Decimal::from(line.quantity)))
            .and_then(|v| v.checked_div(rate.to_base))
            .map(rounding::to_nanos);
        match amount {
            Some(list_amount) if list_amount <= Decimal::from(MAX_AMOUNT_UNITS) => {
                rated.push(RatedUsage {
                    line_id: line.line_id.clone(),
                    unit_price: rate.price,
                    price_unit: rate.unit.clone(),
                    list_amount,
                });
            }
            _ => violations.push(FieldViolation::new(
                format!("lines[{i}].usage_value"),
                "the amount is too large",
            )),
        }
    }
    if violations.is_empty() {
        Ok(rated)
    } else {
        Err(KernelError::Invalid(violations).into())
    }
}
