//! Field parsing shared by the customers RPCs.

use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, IdError, PartnerId};
use partner_kernel::validate::Violations;

use crate::customers::rules::MAX_BATCH;

/// An optional `prt_…` reseller id: empty means none.
pub(super) fn reseller(raw: &str) -> Result<Option<PartnerId>, IdError> {
    if raw.is_empty() {
        Ok(None)
    } else {
        PartnerId::parse(raw).map(Some)
    }
}

/// 1–100 distinct `cus_…` ids; every bad one is reported by index.
pub(super) fn batch_ids(
    v: &mut Violations,
    field: &str,
    raw: &[String],
) -> Option<Vec<CustomerId>> {
    if raw.is_empty() || raw.len() > MAX_BATCH {
        v.add(field, format!("give 1-{MAX_BATCH} ids"));
        return None;
    }
    let mut ids = Vec::with_capacity(raw.len());
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut ok = true;
    for (i, id) in raw.iter().enumerate() {
        match CustomerId::parse(id) {
            Ok(id) if seen.insert(id) => ids.push(id),
            Ok(_) => {
                v.add(&format!("{field}[{i}]"), "repeated");
                ok = false;
            }
            Err(e) => {
                v.add(&format!("{field}[{i}]"), e.to_string());
                ok = false;
            }
        }
        if !ok && i >= 10 {
            // Enough to show the caller what is wrong.
            break;
        }
    }
    ok.then_some(ids)
}

/// An optional enum filter: UNSPECIFIED is `Some(None)`, an unknown number
/// `None` (reported).
pub(super) fn enum_filter<T>(
    v: &mut Violations,
    field: &str,
    raw: i32,
    from_wire: impl Fn(i32) -> Option<T>,
) -> Option<Option<T>> {
    if raw == 0 {
        return Some(None);
    }
    let parsed = from_wire(raw);
    if parsed.is_none() {
        v.add(field, "unknown value");
    }
    parsed.map(Some)
}

/// The customer and optional reseller a read on one customer names.
pub(super) fn one_customer(
    customer_id: &str,
    reseller_id: &str,
) -> Result<(CustomerId, Option<PartnerId>), KernelError> {
    let mut v = Violations::new();
    let id = v.take("customer_id", CustomerId::parse(customer_id));
    let reseller = v.take("reseller_id", reseller(reseller_id));
    v.finish_with(id.zip(reseller))
}

/// The customers and optional reseller a batch read names.
pub fn many_customers(
    customer_ids: &[String],
    reseller_id: &str,
) -> Result<(Vec<CustomerId>, Option<PartnerId>), KernelError> {
    let mut v = Violations::new();
    let ids = batch_ids(&mut v, "customer_ids", customer_ids);
    let reseller = v.take("reseller_id", reseller(reseller_id));
    v.finish_with(ids.zip(reseller))
}

/// An optional field: empty is `Some(None)`, a bad value `None` (reported).
fn optional<E: std::fmt::Display>(
    v: &mut Violations,
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<String, E>,
) -> Option<Option<String>> {
    if raw.is_empty() {
        Some(None)
    } else {
        v.take(field, parse(raw).map(Some))
    }
}

/// A customer's email (lower-cased) and mobile: at least one of them.
pub(super) fn email_or_mobile(
    v: &mut Violations,
    email: &str,
    mobile: &str,
) -> (Option<Option<String>>, Option<Option<String>>) {
    if email.is_empty() && mobile.is_empty() {
        v.add("email", crate::customers::rules::EMAIL_OR_MOBILE);
    }
    let email = optional(v, "email", email, crate::customers::rules::email);
    let mobile = optional(v, "mobile", mobile, crate::customers::rules::mobile);
    (email, mobile)
}
