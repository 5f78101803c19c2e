//! From the form field to XML text: base64, optional raw DEFLATE, size caps.
//!
//! Every step is bounded before it runs: the encoded text, the decoded bytes
//! and the inflated bytes each have a cap, so a deflate bomb stops at the cap
//! instead of filling memory.

use base64::Engine;

use super::rejection::Rejection;

/// The largest base64 text accepted (the HTTP-POST form field).
pub const MAX_ENCODED_BYTES: usize = 128 * 1024;
/// The largest XML accepted, decoded or inflated. Real responses are a few
/// KiB; parsing and canonicalizing cost grows with the size (and the parser's
/// duplicate-attribute check with the square of attributes per element).
pub const MAX_XML_BYTES: usize = 64 * 1024;

/// Decodes a `SAMLResponse` field into its XML text.
///
/// The HTTP-POST binding sends base64 of the XML; some IdPs send the
/// HTTP-Redirect encoding (raw DEFLATE, then base64) on responses too, so
/// bytes that do not start like XML are inflated, never past [`MAX_XML_BYTES`].
pub fn saml_response(encoded: &str) -> Result<String, Rejection> {
    if encoded.len() > MAX_ENCODED_BYTES {
        return Err(Rejection::TooLarge);
    }
    // Form posts wrap base64 in lines; nothing else may be in it.
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| Rejection::BadEncoding)?;
    if bytes.len() > MAX_XML_BYTES {
        return Err(Rejection::TooLarge);
    }
    let xml = if looks_like_xml(&bytes) {
        bytes
    } else {
        inflate(&bytes)?
    };
    String::from_utf8(xml).map_err(|_| Rejection::BadEncoding)
}

/// Raw DEFLATE (RFC 1951) with the output capped.
pub fn inflate(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    use miniz_oxide::inflate::{DecompressError, TINFLStatus};
    miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, MAX_XML_BYTES).map_err(
        |DecompressError { status, .. }| match status {
            TINFLStatus::HasMoreOutput => Rejection::TooLarge,
            TINFLStatus::FailedCannotMakeProgress
            | TINFLStatus::BadParam
            | TINFLStatus::Adler32Mismatch
            | TINFLStatus::Failed
            | TINFLStatus::Done
            | TINFLStatus::NeedsMoreInput => Rejection::BadEncoding,
        },
    )
}

fn looks_like_xml(bytes: &[u8]) -> bool {
    let start = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    start
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test fails loudly
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn plain_base64_with_line_breaks_decodes() {
        let encoded = b64(b"<a>x</a>");
        let wrapped = format!("{}\r\n{}", &encoded[..4], &encoded[4..]);
        assert_eq!(saml_response(&wrapped).unwrap(), "<a>x</a>");
    }

    #[test]
    fn deflated_xml_inflates() {
        let deflated = miniz_oxide::deflate::compress_to_vec(b"<a>deflated</a>", 6);
        assert_eq!(saml_response(&b64(&deflated)).unwrap(), "<a>deflated</a>");
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_cap() {
        // 4 MiB of one byte compresses to a few KiB.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b'<'; 4 << 20], 10);
        assert!(bomb.len() < MAX_ENCODED_BYTES);
        assert_eq!(saml_response(&b64(&bomb)), Err(Rejection::TooLarge));
    }

    #[test]
    fn oversized_and_malformed_input_is_refused() {
        assert_eq!(
            saml_response(&"A".repeat(MAX_ENCODED_BYTES + 1)),
            Err(Rejection::TooLarge)
        );
        assert_eq!(
            saml_response(&b64(&vec![b'<'; MAX_XML_BYTES + 1])),
            Err(Rejection::TooLarge)
        );
        assert_eq!(saml_response("not base64!"), Err(Rejection::BadEncoding));
        assert_eq!(
            saml_response(&b64(b"\x00\x01garbage")),
            Err(Rejection::BadEncoding)
        );
        assert_eq!(
            saml_response(&b64(b"<a>\xff</a>")),
            Err(Rejection::BadEncoding)
        );
    }
}
