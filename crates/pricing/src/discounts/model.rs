//! Discounts and incentive policies as the domain sees them, parsed from
//! their rows, and their wire forms.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use partner_api::pricing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, DiscountId, PartnerId, parse_stored};
use partner_kernel::money::{Currency, Money};
use rust_decimal::Decimal;

use super::entity::{discount, policy};

/// Rates carry at most this many decimals (`0.1234`: 12.34 % off).
pub const MAX_RATE_DECIMALS: u32 = 4;

/// Who grants a discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    VendorContract,
    DistributorContract,
    PartnerSet,
    Promotion,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VendorContract => "VENDOR_CONTRACT",
            Self::DistributorContract => "DISTRIBUTOR_CONTRACT",
            Self::PartnerSet => "PARTNER_SET",
            Self::Promotion => "PROMOTION",
        }
    }

    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "VENDOR_CONTRACT" => Ok(Self::VendorContract),
            "DISTRIBUTOR_CONTRACT" => Ok(Self::DistributorContract),
            "PARTNER_SET" => Ok(Self::PartnerSet),
            "PROMOTION" => Ok(Self::Promotion),
            other => Err(KernelError::Corrupt(format!("discount kind {other:?}"))),
        }
    }

    /// The vendor's discount type code (docs/vendor-codes.md).
    pub fn vendor_code(self) -> i32 {
        match self {
            Self::VendorContract => 605,
            Self::DistributorContract => 606,
            Self::PartnerSet => 607,
            Self::Promotion => 700,
        }
    }

    /// A commercial contract: preferred when the buyer pays automatically.
    pub fn is_contract(self) -> bool {
        matches!(self, Self::VendorContract | Self::DistributorContract)
    }

    pub fn to_proto(self) -> pb::DiscountKind {
        match self {
            Self::VendorContract => pb::DiscountKind::VendorContract,
            Self::DistributorContract => pb::DiscountKind::DistributorContract,
            Self::PartnerSet => pb::DiscountKind::PartnerSet,
            Self::Promotion => pb::DiscountKind::Promotion,
        }
    }

    /// The kind of the wire, if it is one.
    pub fn from_wire(raw: i32) -> Option<Self> {
        match pb::DiscountKind::try_from(raw).ok()? {
            pb::DiscountKind::VendorContract => Some(Self::VendorContract),
            pb::DiscountKind::DistributorContract => Some(Self::DistributorContract),
            pb::DiscountKind::PartnerSet => Some(Self::PartnerSet),
            pb::DiscountKind::Promotion => Some(Self::Promotion),
            pb::DiscountKind::Unspecified => None,
        }
    }
}

/// The products a discount or policy covers; `None` covers every one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub service_type: Option<String>,
    /// Only with a service type.
    pub resource_type: Option<String>,
}

impl Scope {
    /// Whether a product of `service`/`resource` is covered.
    pub fn covers(&self, service: &str, resource: &str) -> bool {
        self.service_type.as_deref().is_none_or(|s| s == service)
            && self.resource_type.as_deref().is_none_or(|r| r == resource)
    }

    /// Whether every product `inner` covers is covered (a policy's scope
    /// holding a discount's).
    pub fn contains(&self, inner: &Scope) -> bool {
        let holds = |outer: &Option<String>, inner: &Option<String>| match (outer, inner) {
            (None, _) => true,
            (Some(o), Some(i)) => o == i,
            (Some(_), None) => false,
        };
        holds(&self.service_type, &inner.service_type)
            && holds(&self.resource_type, &inner.resource_type)
    }

    /// `service/resource`, `*` for any.
    pub fn key(&self) -> String {
        format!(
            "{}/{}",
            self.service_type.as_deref().unwrap_or("*"),
            self.resource_type.as_deref().unwrap_or("*")
        )
    }

    pub fn to_proto(&self) -> pb::ProductScope {
        pb::ProductScope {
            service_type: self.service_type.clone().unwrap_or_default(),
            resource_type: self.resource_type.clone().unwrap_or_default(),
        }
    }
}

/// A rate off: above 0, at most 1, at most [`MAX_RATE_DECIMALS`] decimals,
/// written plainly (`0.15`).
pub fn rate(raw: &str) -> Result<Decimal, String> {
    let plain = !raw.is_empty()
        && raw.len() <= 8
        && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && raw.bytes().filter(|b| *b == b'.').count() <= 1;
    let d = plain
        .then(|| Decimal::from_str(raw).ok())
        .flatten()
        .ok_or_else(|| format!("`{raw:.16}` is not a plain decimal such as 0.15"))?;
    if d <= Decimal::ZERO || d > Decimal::ONE || d.scale() > MAX_RATE_DECIMALS {
        return Err(format!(
            "above 0 and at most 1, with at most {MAX_RATE_DECIMALS} decimals"
        ));
    }
    Ok(d.normalize())
}

/// How much a discount takes off a covered line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terms {
    /// A share of the list amount.
    RateOff(Decimal),
    /// A fixed amount off each covered line of a period purchase.
    Reduction(Money),
}

/// A discount as one of its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub id: DiscountId,
    pub version: i64,
    pub kind: Kind,
    pub name: String,
    pub partner_id: Option<PartnerId>,
    pub customer_id: Option<CustomerId>,
    pub scope: Scope,
    pub terms: Terms,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

fn corrupt(what: &str) -> KernelError {
    KernelError::Corrupt(format!("stored discount: {what}"))
}

impl Discount {
    /// A version as its history keeps it (the row as JSON).
    pub fn from_state(state: &str) -> Result<Self, KernelError> {
        let row: discount::Model =
            serde_json::from_str(state).map_err(|_| corrupt("version state"))?;
        Self::from_row(&row)
    }

    pub fn from_row(row: &discount::Model) -> Result<Self, KernelError> {
        let terms = match (&row.rate_off, row.reduction_minor, &row.currency) {
            (Some(r), None, _) => Terms::RateOff(rate(r).map_err(|_| corrupt("rate"))?),
            (None, Some(minor), Some(c)) => Terms::Reduction(Money::from_minor(
                Currency::parse(c).map_err(|_| corrupt("currency"))?,
                minor,
            )),
            _ => return Err(corrupt("terms")),
        };
        Ok(Self {
            id: parse_stored(&row.id, DiscountId::parse)?,
            version: row.version,
            kind: Kind::parse(&row.kind)?,
            name: row.name.clone(),
            partner_id: row
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            customer_id: row
                .customer_id
                .as_deref()
                .map(|c| parse_stored(c, CustomerId::parse))
                .transpose()?,
            scope: Scope {
                service_type: row.service_type.clone(),
                resource_type: row.resource_type.clone(),
            },
            terms,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            updated_by: row.updated_by.clone(),
            updated_at: row.updated_at,
        })
    }

    /// Whether it applies at `at`.
    pub fn in_force(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|u| at < u)
    }

    pub fn to_proto(&self) -> pb::Discount {
        pb::Discount {
            id: self.id.to_string(),
            version: self.version,
            kind: self.kind.to_proto().into(),
            vendor_code: self.kind.vendor_code(),
            name: self.name.clone(),
            partner_id: self.partner_id.map(|p| p.to_string()).unwrap_or_default(),
            customer_id: self.customer_id.map(|c| c.to_string()).unwrap_or_default(),
            scope: Some(self.scope.to_proto()),
            terms: Some(match self.terms {
                Terms::RateOff(r) => pb::discount::Terms::RateOff(r.to_string()),
                Terms::Reduction(m) => pb::discount::Terms::Reduction(m.to_proto()),
            }),
            valid_from: Some(to_proto_timestamp(self.valid_from)),
            valid_until: self.valid_until.map(to_proto_timestamp),
            update_time: Some(to_proto_timestamp(self.updated_at)),
            updated_by: self.updated_by.clone(),
        }
    }
}

/// An incentive policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub partner_id: String,
    pub scope: Scope,
    pub max_rate_off: Decimal,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Policy {
    pub fn from_row(row: &policy::Model) -> Result<Self, KernelError> {
        Ok(Self {
            id: row.id.clone(),
            partner_id: row.partner_id.clone(),
            scope: Scope {
                service_type: row.service_type.clone(),
                resource_type: row.resource_type.clone(),
            },
            max_rate_off: rate(&row.max_rate_off)
                .map_err(|_| KernelError::Corrupt("stored policy rate".into()))?,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
        })
    }

    pub fn in_force(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|u| at < u)
    }

    pub fn to_proto(&self) -> pb::IncentivePolicy {
        pb::IncentivePolicy {
            id: self.id.clone(),
            partner_id: self.partner_id.clone(),
            scope: Some(self.scope.to_proto()),
            max_rate_off: self.max_rate_off.to_string(),
            valid_from: Some(to_proto_timestamp(self.valid_from)),
            valid_until: self.valid_until.map(to_proto_timestamp),
        }
    }
}

/// The most rate a partner may set on `scope` at `at`: the highest of its
/// policies in force whose scope holds it; `None` without one.
pub fn allowance(policies: &[Policy], scope: &Scope, at: DateTime<Utc>) -> Option<Decimal> {
    policies
        .iter()
        .filter(|p| p.in_force(at) && p.scope.contains(scope))
        .map(|p| p.max_rate_off)
        .max()
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_plain_shares() {
        assert_eq!(rate("0.15").expect("ok"), Decimal::new(15, 2));
        assert_eq!(rate("1").expect("ok"), Decimal::ONE);
        assert_eq!(rate("0.1000").expect("ok").to_string(), "0.1");
        for bad in [
            "0", "0.0", "1.0001", "-0.1", "1e-1", "0.12345", "", " 0.1", "0,1", "nan",
        ] {
            assert!(rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_hold_narrower_scopes_only() {
        let all = Scope::default();
        let compute = Scope {
            service_type: Some("compute".into()),
            resource_type: None,
        };
        let vm = Scope {
            service_type: Some("compute".into()),
            resource_type: Some("vm".into()),
        };
        assert!(all.contains(&compute) && all.contains(&vm) && compute.contains(&vm));
        assert!(!vm.contains(&compute) && !compute.contains(&all));
        assert!(vm.covers("compute", "vm") && !vm.covers("compute", "disk"));
        assert!(compute.covers("compute", "disk") && !compute.covers("network", "eip"));
    }
}
