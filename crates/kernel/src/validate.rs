//! Parsing request fields into domain values at the edge, collecting every
//! problem so the client sees all its field violations in one answer.

use uuid::Uuid;

use crate::error::{FieldViolation, KernelError};

/// Collects field violations while a request is parsed.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation of `field`.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records a violation of `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, description: &str) {
        if !ok {
            self.add(field, description);
        }
    }

    /// Keeps the value of a parse, or records its error against `field`.
    pub fn take<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// `Ok` when nothing was recorded, else `INVALID_ARGUMENT` with every violation.
    pub fn finish(self) -> Result<(), KernelError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(KernelError::Invalid(self.0))
        }
    }

    /// Like [`finish`](Self::finish), handing back a value that was parsed when
    /// there were no violations. `None` with no violations is a parser bug.
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T, KernelError> {
        self.finish()?;
        value.ok_or_else(|| KernelError::Corrupt("parsed value missing without a violation".into()))
    }
}

/// An optional id (empty: none) parsed by `parse`; a bad one is reported
/// on `field` (`None`).
pub fn optional_id<T, E: std::fmt::Display>(
    v: &mut Violations,
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<Option<T>> {
    if raw.is_empty() {
        return Some(None);
    }
    v.take(field, parse(raw)).map(Some)
}

/// An optional time (unset: none); a bad one is reported on `field`.
pub fn optional_time(
    v: &mut Violations,
    field: &str,
    raw: Option<&prost_types::Timestamp>,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    match raw {
        Some(t) => v
            .take(field, crate::time::from_proto_timestamp(t))
            .map(Some),
        None => Some(None),
    }
}

/// Parses a request id: a UUID in its usual hyphenated form.
pub fn request_id(raw: &str) -> Result<Uuid, &'static str> {
    if raw.is_empty() {
        return Err("required: a UUID chosen by the caller");
    }
    Uuid::try_parse(raw).map_err(|_| "must be a UUID")
}

/// The fields of a verb on one resource: the request id, the resource's id
/// (`parsed` from the field `id_field`), and an optional reason of at most
/// 512 characters. Every violation is reported at once.
pub fn verb<T, E: std::fmt::Display>(
    request_id: &str,
    id_field: &str,
    parsed: Result<T, E>,
    reason: &str,
) -> Result<(Uuid, T, String), KernelError> {
    verb_on(request_id, id_field, parsed, reason, 0)
}

/// [`verb`] whose reason is required.
pub fn verb_with_reason<T, E: std::fmt::Display>(
    request_id: &str,
    id_field: &str,
    parsed: Result<T, E>,
    reason: &str,
) -> Result<(Uuid, T, String), KernelError> {
    verb_on(request_id, id_field, parsed, reason, 1)
}

fn verb_on<T, E: std::fmt::Display>(
    request_id: &str,
    id_field: &str,
    parsed: Result<T, E>,
    reason: &str,
    min_reason: usize,
) -> Result<(Uuid, T, String), KernelError> {
    let mut v = Violations::new();
    let request_id = v.take("request_id", self::request_id(request_id));
    let id = v.take(id_field, parsed);
    let reason = v.take("reason", text(reason, min_reason, 512));
    let parsed = (|| Some((request_id?, id?, reason?)))();
    v.finish_with(parsed)
}

/// The most paths an update mask may name: more than any update has fields.
pub const MAX_MASK_PATHS: usize = 8;

/// The paths of an update mask: at least one, at most [`MAX_MASK_PATHS`].
/// A longer mask is refused whole (none of its paths is read), so no path
/// beyond the limit is silently dropped.
pub fn mask_paths(v: &mut Violations, mask: Option<prost_types::FieldMask>) -> Vec<String> {
    let paths = mask.map(|m| m.paths).unwrap_or_default();
    v.check(!paths.is_empty(), "update_mask", "name at least one field");
    if paths.len() > MAX_MASK_PATHS {
        v.add("update_mask", format!("at most {MAX_MASK_PATHS} fields"));
        return Vec::new();
    }
    paths
}

/// Records that an update cannot change `path` (quoted, cut to 64 characters).
pub fn not_updatable(v: &mut Violations, path: &str) {
    v.add("update_mask", format!("`{path:.64}` cannot be updated"));
}

/// Whether `c` changes how the text around it is shown without being seen
/// itself: bidirectional embeddings, overrides and isolates (which can make
/// a reason or a name on a bill or an export read backwards), invisible
/// separators and fillers, and line or paragraph separators (which break
/// a line of an export or a log). Direction marks (U+200E, U+200F, U+061C),
/// zero-width joiners (U+200C, U+200D) and the Mongolian vowel separator
/// stay: right-to-left scripts, emoji and Mongolian spelling need them.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{115F}'
            | '\u{1160}'
            | '\u{200B}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Checks a free-text field: trimmed length within `min..=max` characters, no
/// control characters, no invisible formatting ([`invisible`]). Returns the
/// trimmed text.
pub fn text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(if min == 1 {
            "required".into()
        } else {
            format!("at least {min} characters")
        });
    }
    if len > max {
        return Err(format!("at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if trimmed.chars().any(invisible) {
        return Err("must not contain invisible formatting characters (bidirectional controls, zero-width spaces)".into());
    }
    Ok(trimmed.to_owned())
}

/// Checks an optional filter value (a search prefix, a method or resource
/// name): at most `max` characters and no control characters (PostgreSQL
/// refuses a NUL in text, and nothing legitimate holds one). Empty means no
/// filter: `None`.
pub fn filter(raw: String, max: usize) -> Result<Option<String>, String> {
    if raw.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(Some(raw).filter(|r| !r.is_empty()))
}

/// Checks an email address: one `@`, a non-empty local part, a dotted domain,
/// no spaces, at most 254 characters. Deliberately loose: the address is
/// confirmed by mail, not by a regular expression.
pub fn email(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("required");
    }
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("not an email address");
    }
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(s.to_owned())
        }
        _ => Err("not an email address"),
    }
}

/// Checks a login name: 3–64 of `[a-z0-9._-]`, starting with a letter.
pub fn username(raw: &str) -> Result<String, &'static str> {
    let ok_len = (3..=64).contains(&raw.len());
    let starts = raw.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    let chars = raw
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok_len && starts && chars {
        Ok(raw.to_owned())
    } else {
        Err("3-64 of [a-z0-9._-], starting with a letter")
    }
}

/// Checks a new password: 10–256 characters, not all whitespace.
pub fn new_password(raw: &str) -> Result<(), &'static str> {
    let len = raw.chars().count();
    if !(10..=256).contains(&len) || raw.trim().is_empty() {
        return Err("10-256 characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
        Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        })
    }

    #[test]
    fn a_mask_names_one_to_eight_fields() {
        let mut v = Violations::new();
        assert_eq!(mask_paths(&mut v, mask(&["a", "b"])), ["a", "b"]);
        assert!(v.finish().is_ok());
        for bad in [None, mask(&[]), mask(&["a"; 9])] {
            let mut v = Violations::new();
            assert!(mask_paths(&mut v, bad).is_empty());
            assert!(v.finish().is_err());
        }
    }

    #[test]
    fn text_rules() {
        assert_eq!(text("  Acme  ", 1, 10), Ok("Acme".to_owned()));
        assert!(text("", 1, 10).is_err());
        assert!(text("   ", 1, 10).is_err());
        assert!(text("abcdefghijk", 1, 10).is_err());
        assert!(text("a\u{0}b", 1, 10).is_err());
        assert_eq!(text("云计算伙伴", 1, 5), Ok("云计算伙伴".to_owned()));
        // A reason that would read "refund 100" backwards on a bill.
        assert!(text("refund \u{202E}001", 1, 20).is_err());
        assert!(text("a\u{2066}b\u{2069}", 1, 10).is_err());
        assert!(text("a\u{200B}b", 1, 10).is_err());
        assert!(text("\u{FEFF}Acme", 1, 10).is_err());
        assert!(text("a\u{2028}b", 1, 10).is_err());
        assert!(text("\u{3164}", 1, 10).is_err());
        // Joiners and direction marks are part of scripts and emoji.
        assert_eq!(text("שלום\u{200F}", 1, 10), Ok("שלום\u{200F}".to_owned()));
        assert_eq!(text("👩\u{200D}💻", 1, 10), Ok("👩\u{200D}💻".to_owned()));
    }

    #[test]
    fn filter_rules() {
        assert_eq!(filter(String::new(), 5), Ok(None));
        assert_eq!(filter("Acme".into(), 5), Ok(Some("Acme".into())));
        assert!(filter("a\u{0}b".into(), 5).is_err());
        assert!(filter("abcdef".into(), 5).is_err());
    }

    #[test]
    fn email_rules() {
        assert!(email("ops@acme.example").is_ok());
        for bad in ["", "a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@.c", "a@c."] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn username_rules() {
        assert!(username("acme.master").is_ok());
        for bad in ["ab", "1abc", "Abc", "a b c", "abc!", &"a".repeat(65)] {
            assert!(username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_id_rules() {
        assert!(request_id("6f1c6d2e-8a7b-4c1d-9e0f-123456789abc").is_ok());
        assert!(request_id("").is_err());
        assert!(request_id("not-a-uuid").is_err());
    }

    #[test]
    fn verbs_report_every_bad_field() {
        let ok = verb(
            "6f1c6d2e-8a7b-4c1d-9e0f-123456789abc",
            "id",
            Ok::<_, &str>(7),
            " why ",
        );
        assert_eq!(
            ok.ok().map(|(_, id, reason)| (id, reason)),
            Some((7, "why".to_owned()))
        );
        match verb("x", "id", Err::<u8, _>("bad id"), &"r".repeat(513)) {
            Err(KernelError::Invalid(list)) => assert_eq!(list.len(), 3),
            other => panic!("{other:?}"),
        }
        let id = "6f1c6d2e-8a7b-4c1d-9e0f-123456789abc";
        assert!(verb_with_reason(id, "id", Ok::<_, &str>(7), " ").is_err());
    }

    #[test]
    fn violations_collect_all() {
        let mut v = Violations::new();
        v.check(false, "a", "bad");
        v.check(true, "b", "fine");
        let _ = v.take::<u8, _>("c", Err("worse"));
        match v.finish() {
            Err(KernelError::Invalid(list)) => assert_eq!(list.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
