//! The SAML rules against responses signed by an independent implementation
//! (Python signxml) and attacks made from them: see `fixtures/saml/make_fixtures.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly
use chrono::{DateTime, Duration, Utc};
use partner_federation::saml::{
    Expected, Rejection, TrustedIdp, VerifiedAssertion, XaccountSource, metadata, response,
};

const SP_ENTITY_ID: &str = "http://localhost:50051/saml/metadata";
const ACS_URL: &str = "http://localhost:50051/saml/acs";
const IDP_ENTITY_ID: &str = "https://sales.example-partner.com/idp";

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/saml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn issued_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn certificates(metadata_file: &str) -> Vec<Vec<u8>> {
    metadata::parse(&fixture(metadata_file))
        .unwrap()
        .certificates
}

struct Case {
    certificates: Vec<Vec<u8>>,
    require_signed_assertions: bool,
    xaccount: XaccountSource,
    now: DateTime<Utc>,
}

impl Case {
    fn new() -> Self {
        Self {
            certificates: certificates("idp_metadata.xml"),
            require_signed_assertions: true,
            xaccount: XaccountSource::Attribute("xaccount_id".into()),
            now: issued_at(),
        }
    }

    fn verify(&self, file: &str) -> Result<VerifiedAssertion, Rejection> {
        self.verify_text(&fixture(&format!("{file}.xml")))
    }

    fn verify_text(&self, xml: &str) -> Result<VerifiedAssertion, Rejection> {
        let idp = TrustedIdp {
            entity_id: IDP_ENTITY_ID,
            certificates: &self.certificates,
            require_signed_assertions: self.require_signed_assertions,
            xaccount: &self.xaccount,
        };
        let expected = Expected {
            sp_entity_id: SP_ENTITY_ID,
            acs_url: ACS_URL,
            now: self.now,
            skew: Duration::seconds(60),
        };
        response::verify(xml, &idp, &expected)
    }
}

fn refused(file: &str) -> Rejection {
    Case::new()
        .verify(file)
        .expect_err(&format!("{file} must be refused"))
}

#[test]
fn metadata_gives_entity_id_certificate_and_sso_url() {
    let md = metadata::parse(&fixture("idp_metadata.xml")).unwrap();
    assert_eq!(md.entity_id, IDP_ENTITY_ID);
    assert_eq!(md.certificates.len(), 1);
    assert_eq!(md.sso_url, "https://sales.example-partner.com/idp/sso");
    assert_eq!(certificates("idp_metadata_rollover.xml").len(), 2);
}

#[test]
fn the_sso_url_is_one_a_browser_may_be_sent_to() {
    let with_sso = |url: &str| {
        metadata::parse(&fixture("idp_metadata.xml").replace(
            "https://sales.example-partner.com/idp/sso\"",
            &format!("{url}\""),
        ))
    };
    assert!(
        with_sso("http://127.0.0.1:8080/sso").is_ok(),
        "http on loopback"
    );
    for bad in [
        "http://sales.example-partner.com/sso",
        "https://sales.example-partner.com/sso#frag",
        "https://user:pw@sales.example-partner.com/sso",
        "javascript:alert(1)",
        "/sso",
    ] {
        assert!(with_sso(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_signed_assertion_verifies_and_names_the_xaccount() {
    let verified = Case::new().verify("assertion_signed").unwrap();
    assert_eq!(verified.xaccount_id, "crm-10001");
    assert_eq!(verified.name_id, "nameid-10001");
    assert_eq!(verified.assertion_id, "_a1");
    assert_eq!(verified.in_response_to, None);
    assert_eq!(verified.valid_until, issued_at() + Duration::minutes(5));
    assert_eq!(
        Case::new().verify("both_signed").unwrap().xaccount_id,
        "crm-10001"
    );
}

#[test]
fn the_xaccount_can_be_the_name_id() {
    let mut case = Case::new();
    case.xaccount = XaccountSource::NameId;
    assert_eq!(
        case.verify("assertion_signed").unwrap().xaccount_id,
        "nameid-10001"
    );
    case.xaccount = XaccountSource::Attribute("crm_id".into());
    assert_eq!(
        case.verify("assertion_signed"),
        Err(Rejection::MissingXaccount("crm_id".into()))
    );
}

#[test]
fn a_signed_response_alone_counts_only_when_the_idp_allows_it() {
    assert_eq!(refused("response_signed"), Rejection::AssertionNotSigned);
    let mut case = Case::new();
    case.require_signed_assertions = false;
    assert_eq!(
        case.verify("response_signed").unwrap().xaccount_id,
        "crm-10001"
    );
}

#[test]
fn rollover_accepts_old_and_new_certificates_together() {
    assert_eq!(refused("next_key"), Rejection::SignatureInvalid);
    let mut case = Case::new();
    case.certificates = certificates("idp_metadata_rollover.xml");
    assert!(case.verify("next_key").is_ok());
    assert!(case.verify("assertion_signed").is_ok());
    case.certificates = certificates("idp_metadata_next.xml");
    assert_eq!(
        case.verify("assertion_signed"),
        Err(Rejection::SignatureInvalid)
    );
}

#[test]
fn times_are_checked_with_the_skew() {
    let mut case = Case::new();
    case.now = issued_at() + Duration::minutes(5) + Duration::seconds(59);
    assert!(case.verify("assertion_signed").is_ok());
    case.now = issued_at() + Duration::minutes(6);
    assert_eq!(case.verify("assertion_signed"), Err(Rejection::Expired));
    case.now = issued_at() - Duration::minutes(2) - Duration::seconds(1);
    assert_eq!(case.verify("assertion_signed"), Err(Rejection::NotYetValid));
}

#[test]
fn signature_wrapping_is_refused() {
    // XSW1/2 hide the signed Response inside or beside a forged one.
    assert_eq!(refused("xsw1"), Rejection::DuplicateIds);
    assert_eq!(refused("xsw2"), Rejection::DuplicateIds);
    for xsw in ["xsw3", "xsw4", "xsw5", "xsw6", "xsw7", "xsw8"] {
        assert_eq!(refused(xsw), Rejection::AssertionCount, "{xsw}");
    }
}

#[test]
fn each_hostile_response_has_its_own_reason() {
    let cases = [
        ("unsigned", Rejection::Unsigned),
        ("other_key", Rejection::SignatureInvalid),
        (
            "sha1",
            Rejection::AlgorithmNotAllowed("http://www.w3.org/2000/09/xmldsig#rsa-sha1".into()),
        ),
        ("comment_in_xaccount", Rejection::MarkupInIdentity),
        ("comment_in_nameid", Rejection::MarkupInIdentity),
        ("doctype", Rejection::Doctype),
        ("extra_assertion", Rejection::AssertionCount),
        ("duplicate_ids", Rejection::DuplicateIds),
        ("wrong_audience", Rejection::AudienceMismatch),
        ("wrong_recipient", Rejection::RecipientMismatch),
        ("wrong_destination", Rejection::DestinationMismatch),
        ("wrong_issuer", Rejection::IssuerMismatch),
        (
            "status_failure",
            Rejection::StatusNotSuccess("urn:oasis:names:tc:SAML:2.0:status:Requester".into()),
        ),
        ("missing_nameid", Rejection::MissingNameId),
        ("no_subject_confirmation", Rejection::RecipientMismatch),
    ];
    for (file, rejection) in cases {
        assert_eq!(refused(file), rejection, "{file}");
    }
}

#[test]
fn a_tampered_signed_value_fails_the_signature() {
    let xml = fixture("assertion_signed.xml").replace("crm-10001", "crm-10002");
    let certs = certificates("idp_metadata.xml");
    let xaccount = XaccountSource::Attribute("xaccount_id".into());
    let idp = TrustedIdp {
        entity_id: IDP_ENTITY_ID,
        certificates: &certs,
        require_signed_assertions: true,
        xaccount: &xaccount,
    };
    let expected = Expected {
        sp_entity_id: SP_ENTITY_ID,
        acs_url: ACS_URL,
        now: issued_at(),
        skew: Duration::seconds(60),
    };
    assert_eq!(
        response::verify(&xml, &idp, &expected),
        Err(Rejection::SignatureInvalid)
    );
    // Truncated anywhere, the XML is malformed: refused, never a panic.
    let whole = fixture("assertion_signed.xml");
    for cut in (0..whole.len()).filter(|c| whole.is_char_boundary(*c)) {
        let r = response::verify(&whole[..cut], &idp, &expected);
        assert!(
            matches!(r, Err(ref e) if e.is_malformed()),
            "cut {cut}: {r:?}"
        );
    }
    // Any one byte changed: refused, or (in what no signature covers, like
    // the KeyInfo) the same identity; never a panic.
    let bytes = whole.as_bytes();
    for at in (0..bytes.len()).step_by(7) {
        let mut changed = bytes.to_vec();
        changed[at] = if changed[at] == b'x' { b'y' } else { b'x' };
        let Ok(text) = String::from_utf8(changed) else {
            continue;
        };
        if let Ok(v) = response::verify(&text, &idp, &expected) {
            assert_eq!(v.xaccount_id, "crm-10001", "byte {at}");
        }
    }
}

#[test]
fn in_response_to_is_reported_for_the_caller_to_match() {
    let verified = Case::new().verify("unknown_in_response_to").unwrap();
    assert_eq!(verified.in_response_to.as_deref(), Some("_unknown_request"));
}

#[test]
fn only_the_two_named_transforms_and_sha2_digests_are_accepted() {
    assert_eq!(
        refused("enveloped_only"),
        Rejection::AlgorithmNotAllowed(
            "transforms other than enveloped-signature then exclusive C14N".into()
        )
    );
    assert_eq!(
        refused("sha1_digest"),
        Rejection::AlgorithmNotAllowed("http://www.w3.org/2000/09/xmldsig#sha1".into())
    );
    // An XPath transform, added to a signed response.
    let xpath = "http://www.w3.org/TR/1999/REC-xpath-19991116";
    let xml = fixture("assertion_signed.xml").replace(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        &format!(
            "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
             <ds:Transform Algorithm=\"{xpath}\"><ds:XPath>1</ds:XPath></ds:Transform>"
        ),
    );
    assert_eq!(
        Case::new().verify_text(&xml),
        Err(Rejection::AlgorithmNotAllowed(xpath.into()))
    );
}

#[test]
fn every_signature_must_verify_and_reference_its_own_element() {
    // The assertion's signature is the IdP's; the Response's is another key's.
    assert_eq!(refused("mixed_keys"), Rejection::SignatureInvalid);
    let good = fixture("assertion_signed.xml");
    // A reference to another element than the one holding the signature.
    let elsewhere = good.replace("URI=\"#_a1\"", "URI=\"#_r1\"");
    assert_eq!(
        Case::new().verify_text(&elsewhere),
        Err(Rejection::ReferenceMismatch)
    );
    // A second signature on the same element, or more than two: only work.
    let start = good.find("<ds:Signature").unwrap();
    let end = good.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = &good[start..end];
    let twice = good.replacen(signature, &format!("{signature}{signature}"), 1);
    assert_eq!(
        Case::new().verify_text(&twice),
        Err(Rejection::SignatureMisplaced)
    );
    let many = good.replacen(signature, &signature.repeat(5), 1);
    assert_eq!(
        Case::new().verify_text(&many),
        Err(Rejection::SignatureMisplaced)
    );
}

#[test]
fn shapes_no_conforming_idp_sends_are_refused() {
    let good = fixture("assertion_signed.xml");
    let v11 = good.replacen("Version=\"2.0\"", "Version=\"1.1\"", 1);
    assert_eq!(
        Case::new().verify_text(&v11),
        Err(Rejection::NotAResponse("the Version is not 2.0"))
    );
    let encrypted = good.replace(
        "</samlp:Response>",
        "<saml:EncryptedAssertion/></samlp:Response>",
    );
    assert_eq!(
        Case::new().verify_text(&encrypted),
        Err(Rejection::AssertionCount)
    );
    // Valid (in UTC) past year 9999: refused, not stored where it would sort first.
    assert!(matches!(refused("far_future"), Rejection::NotAResponse(_)));
}
