//! The url-encoded fields a SAML binding sends (the ACS form, the login
//! query): only the named ones are read, and a named one sent twice is
//! refused rather than one of its values picked.

/// The values of `names` in `raw`, in their order; `Err` when one appears twice.
pub fn fields<const N: usize>(
    raw: &[u8],
    names: [&str; N],
) -> Result<[Option<String>; N], &'static str> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (name, value) in url::form_urlencoded::parse(raw) {
        let Some(i) = names.iter().position(|n| *n == name) else {
            continue;
        };
        if out[i].replace(value.into_owned()).is_some() {
            return Err("a field appears twice");
        }
    }
    Ok(out)
}
