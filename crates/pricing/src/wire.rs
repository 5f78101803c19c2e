//! Field parsers every pricing service shares: optional ids and times,
//! and catalog ids.

use partner_kernel::validate::Violations;

/// Whether `raw` is a code: 1-64 of A-Z a-z 0-9 . - _ (catalog ids, baseline
/// solution codes).
pub fn is_code(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// An optional catalog id (empty: none): 1-64 of the catalog's id characters.
pub fn catalog_id(v: &mut Violations, field: &str, raw: &str) -> Option<Option<String>> {
    if raw.is_empty() {
        return Some(None);
    }
    let ok = is_code(raw);
    v.check(ok, field, "a catalog id (1-64 of A-Z a-z 0-9 . - _)");
    ok.then(|| Some(raw.to_owned()))
}

/// A required catalog id.
pub fn required_catalog_id(v: &mut Violations, field: &str, raw: &str) -> Option<String> {
    v.check(!raw.is_empty(), field, "required");
    catalog_id(v, field, raw)?
}

pub use partner_kernel::validate::{optional_id, optional_time};
