//! The field rules of customers (SPEC §3): account names, mobiles, country
//! codes, sales-platform account ids, labels and contacts. Each returns the
//! value to keep or the violation's description.

use partner_kernel::validate;

/// At most this many labels per customer.
pub const MAX_LABELS: usize = 20;
/// At most this many account managers per customer.
pub const MAX_ACCOUNT_MANAGERS: usize = 10;
/// At most this many ids in one batch.
pub const MAX_BATCH: usize = 100;

/// An account name: 5–32 of `[A-Za-z0-9_-]`, not starting with a digit (so
/// never all digits), not starting with `op_` or `shadow_` (any case: they
/// are the vendor's own).
pub fn account_name(raw: &str) -> Result<String, &'static str> {
    let bytes = raw.as_bytes();
    if !(5..=32).contains(&bytes.len()) {
        return Err("must be 5-32 characters");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    {
        return Err("may hold only A-Z, a-z, 0-9, `_` and `-`");
    }
    if bytes[0].is_ascii_digit() {
        return Err("must not start with a digit");
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("op_") || lower.starts_with("shadow_") {
        return Err("must not start with `op_` or `shadow_`");
    }
    Ok(raw.to_owned())
}

/// A generated account name for a customer created without one.
pub fn generated_account_name() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("cust_{hex}"))
}

/// An account's email, lower-cased (identities are compared so), then
/// checked: some characters grow when lower-cased.
pub fn email(raw: &str) -> Result<String, &'static str> {
    partner_kernel::validate::email(&raw.to_lowercase())
}

/// Why an account without an email and a mobile is refused.
pub const EMAIL_OR_MOBILE: &str = "give an email address or a mobile number";

/// A mobile number: `+` and 6–15 digits (E.164).
pub fn mobile(raw: &str) -> Result<String, &'static str> {
    let digits = raw.strip_prefix('+').ok_or("must start with `+`")?;
    if (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_owned())
    } else {
        Err("must be `+` and 6-15 digits")
    }
}

/// An ISO 3166-1 alpha-2 code: two upper-case letters.
pub fn country(raw: &str) -> Result<String, &'static str> {
    if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_owned())
    } else {
        Err("must be an ISO 3166-1 alpha-2 code such as `CN`")
    }
}

/// A sales-platform account id: 1–64 characters, none of them control
/// characters, no surrounding spaces.
pub fn xaccount_id(raw: &str) -> Result<String, &'static str> {
    let len = raw.chars().count();
    if len == 0 {
        return Err("required");
    }
    if len > 64 {
        return Err("at most 64 characters");
    }
    if raw.chars().any(char::is_control) || raw.trim() != raw {
        return Err("must not hold control characters or surrounding spaces");
    }
    Ok(raw.to_owned())
}

/// A sales-platform id as a request names it: 1–32 characters (whether it
/// is the caller's is decided against the store).
pub fn xaccount_type(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("required");
    }
    if raw.len() > 32 || raw.chars().any(char::is_control) {
        return Err("not a sales-platform id");
    }
    Ok(raw.to_owned())
}

/// Labels: at most [`MAX_LABELS`], each 1–32 characters; duplicates
/// collapse, and the result is sorted.
pub fn labels(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > MAX_LABELS {
        return Err(format!("at most {MAX_LABELS} labels"));
    }
    let mut out = Vec::with_capacity(raw.len());
    for label in raw {
        out.push(validate::text(label, 1, 32)?);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A contact phone: empty, or 1–32 of digits, `+`, spaces and `-`.
pub fn phone(raw: &str) -> Result<String, &'static str> {
    let ok = raw.len() <= 32
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b' ' | b'-'));
    if ok {
        Ok(raw.trim().to_owned())
    } else {
        Err("may hold only digits, `+`, spaces and `-`, at most 32")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_follow_spec() {
        assert!(account_name("acme_1").is_ok());
        assert!(account_name("-dash-").is_ok());
        assert!(account_name("abcd").is_err());
        assert!(account_name(&"a".repeat(33)).is_err());
        assert!(account_name("12345").is_err());
        assert!(account_name("9abcde").is_err());
        assert!(account_name("op_admin").is_err());
        assert!(account_name("Shadow_x1").is_err());
        assert!(account_name("bad name").is_err());
        assert!(account_name("名字名字名字").is_err());
        let generated = generated_account_name().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(account_name(&generated), Ok(generated.clone()));
    }

    #[test]
    fn mobiles_countries_and_ids() {
        assert!(mobile("+8613800000000").is_ok());
        assert!(mobile("13800000000").is_err());
        assert!(mobile("+12ab5678").is_err());
        assert!(country("CN").is_ok());
        assert!(country("cn").is_err());
        assert!(country("CHN").is_err());
        assert!(xaccount_id("user-42").is_ok());
        assert!(xaccount_id(" x").is_err());
        assert!(xaccount_id("a\u{0}b").is_err());
        assert!(xaccount_id(&"x".repeat(65)).is_err());
    }

    #[test]
    fn labels_are_sorted_and_deduplicated() {
        let raw = vec!["vip".to_owned(), "east".to_owned(), "vip".to_owned()];
        assert_eq!(labels(&raw), Ok(vec!["east".to_owned(), "vip".to_owned()]));
        assert!(labels(&vec!["x".to_owned(); 21]).is_err());
        assert!(labels(&[String::new()]).is_err());
    }
}
