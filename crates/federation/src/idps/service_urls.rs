//! The allow-list of where a sign-in may land (no open redirect).
//!
//! Entries are absolute URL prefixes. A service URL is allowed when, after
//! the WHATWG normalisation both go through (dot segments, backslashes,
//! percent-encoded dots, default ports, host case), it has an entry's
//! scheme, host and port, carries no credentials, and its path is the
//! entry's path or lies under it on a segment boundary, with no
//! percent-encoded `/`, `\\` or `.` in its path. The origin is the real
//! boundary: partners sharing one host split by path trust each other's
//! servers to route like browsers.

use url::Url;

/// Entries per IdP.
pub const MAX_ENTRIES: usize = 10;
/// Length of an entry or a service URL.
pub const MAX_LEN: usize = 512;

/// A URL a browser may be sent to, within the length cap.
fn parse(raw: &str) -> Result<Url, &'static str> {
    if raw.len() > MAX_LEN {
        return Err("at most 512 characters");
    }
    crate::urls::browser_url(raw)
}

/// Percent-encoded `/`, `\` and `.` in a path: a server that decodes before
/// routing would read segments the prefix check did not see.
fn encoded_separator(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["%2f", "%5c", "%2e"].iter().any(|e| lower.contains(e))
}

/// The allow-list as registered: each entry normalised, without query or fragment.
pub fn parse_entries(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > MAX_ENTRIES {
        return Err(format!("at most {MAX_ENTRIES} entries"));
    }
    raw.iter()
        .enumerate()
        .map(|(i, entry)| {
            let url = parse(entry.trim()).map_err(|e| format!("entry {i}: {e}"))?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!("entry {i}: a prefix has no query or fragment"));
            }
            Ok(url.to_string())
        })
        .collect()
}

/// `candidate` normalised, when one of `entries` allows it.
pub fn allowed(entries: &[String], candidate: &str) -> Option<Url> {
    let url = parse(candidate)
        .ok()
        .filter(|u| !encoded_separator(u.path()))?;
    entries
        .iter()
        .filter_map(|e| Url::parse(e).ok())
        .any(|entry| under(&entry, &url))
        .then_some(url)
}

fn under(entry: &Url, url: &Url) -> bool {
    if entry.scheme() != url.scheme()
        || entry.host() != url.host()
        || entry.port_or_known_default() != url.port_or_known_default()
    {
        return false;
    }
    let (prefix, path) = (entry.path(), url.path());
    path == prefix
        || (prefix.ends_with('/') && path.starts_with(prefix))
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(raw: &[&str]) -> Vec<String> {
        parse_entries(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn entries_must_be_https_prefixes() {
        for bad in [
            "http://app.example/",
            "ftp://app.example/",
            "javascript:alert(1)",
            "https://user:pw@app.example/",
            "https://app.example/?next=x",
            "https://app.example/#x",
            "/relative",
            "",
        ] {
            assert!(parse_entries(&[bad.to_string()]).is_err(), "{bad}");
        }
        assert!(parse_entries(&vec!["https://a.example/".to_string(); 11]).is_err());
        assert_eq!(
            entries(&["https://APP.example:443/console", "http://localhost:8080/"]),
            vec!["https://app.example/console", "http://localhost:8080/"]
        );
    }

    #[test]
    fn only_urls_under_an_entry_are_allowed() {
        let list = entries(&["https://app.example/console", "http://127.0.0.1:9000/"]);
        for good in [
            "https://app.example/console",
            "https://app.example/console/",
            "https://app.example/console/orders?id=1#top",
            "https://APP.EXAMPLE:443/console/x",
            "http://127.0.0.1:9000/anything",
        ] {
            assert!(allowed(&list, good).is_some(), "{good}");
        }
        for bad in [
            "https://app.example/consoleevil",
            "https://app.example/console/../admin",
            "https://app.example/console/%2e%2e/admin",
            "https://app.example/console/..%2fadmin",
            "https://app.example/console/..%5Cadmin",
            "https://app.example/console/%2E%2E%2Fadmin",
            "https://app.example/console\\..\\admin",
            "https://app.example.evil.example/console",
            "https://evil.example/console",
            "https://app.example@evil.example/console",
            "https://user@app.example/console",
            "http://app.example/console",
            "https://app.example:8443/console",
            "//evil.example/console",
            "http://127.0.0.1:9001/",
            "javascript:alert(1)",
            "",
        ] {
            assert!(allowed(&list, bad).is_none(), "{bad}");
        }
    }
}
