//! Verifying a SAML 2.0 Response and reading the identity from its signed
//! assertion — the only node identity is ever read from.

use bergshamra_xml::uppsala::{Document, NodeId};
use chrono::{DateTime, Duration, Utc};
use partner_kernel::time;

use super::dom::{self, SAML, SAMLP};
use super::rejection::Rejection;
use super::signature;

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Where an IdP puts the customer's xaccount id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XaccountSource {
    /// The subject's NameID.
    NameId,
    /// The single value of the attribute with this `Name`.
    Attribute(String),
}

/// What the platform trusts about one registered identity provider.
#[derive(Debug, Clone)]
pub struct TrustedIdp<'a> {
    /// Its entity id: the only accepted Issuer.
    pub entity_id: &'a str,
    /// DER certificates whose keys may sign (two during a rollover).
    pub certificates: &'a [Vec<u8>],
    /// Whether the Assertion must carry its own signature (a signed Response alone is not enough).
    pub require_signed_assertions: bool,
    /// Where the xaccount id is.
    pub xaccount: &'a XaccountSource,
}

/// What this service provider expects to find in a response addressed to it.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Our entity id: the Audience.
    pub sp_entity_id: &'a str,
    /// Our ACS URL: the Destination and the Recipient.
    pub acs_url: &'a str,
    /// The platform clock's now.
    pub now: DateTime<Utc>,
    /// Allowed clock difference with the IdP.
    pub skew: Duration,
}

/// An assertion that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The assertion's ID, for the replay cache.
    pub assertion_id: String,
    /// The subject's NameID.
    pub name_id: String,
    /// The customer's id in the partner's sales platform.
    pub xaccount_id: String,
    /// The AuthnRequest this answers, for SP-initiated logins.
    pub in_response_to: Option<String>,
    /// Until when the assertion could be presented: the replay cache keeps it until then (plus skew).
    pub valid_until: DateTime<Utc>,
    /// The optional `email`, `mobile`, `country` and `customer_id`
    /// attributes (what a first sign-in creates or binds).
    pub profile: ProfileAttributes,
}

/// Single-valued, plain-text attributes a first sign-in may use; one that
/// is missing, repeated, multi-valued or holds markup is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileAttributes {
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub country: Option<String>,
    /// BIND_EXISTING: the customer (`cus_…`) the xaccount is bound to.
    pub customer_id: Option<String>,
}

/// A parsed response whose shape passed (one Response, one Assertion, no ID
/// twice); nothing in it is trusted until [`Response::verify`].
pub struct Response<'x> {
    xml: &'x str,
    doc: Document<'x>,
    response: NodeId,
    assertion: NodeId,
}

impl std::fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response").finish_non_exhaustive()
    }
}

/// Parses `xml` as a SAML 2.0 Response, once for both the issuer lookup and
/// the verification.
pub fn parse(xml: &str) -> Result<Response<'_>, Rejection> {
    let doc = dom::parse(xml)?;
    let (response, assertion) = envelope(&doc)?;
    Ok(Response {
        xml,
        doc,
        response,
        assertion,
    })
}

/// Parses and verifies `xml` as a response from `idp` to this service provider.
pub fn verify(
    xml: &str,
    idp: &TrustedIdp<'_>,
    expected: &Expected<'_>,
) -> Result<VerifiedAssertion, Rejection> {
    parse(xml)?.verify(idp, expected)
}

impl Response<'_> {
    /// The unverified issuer, used only to pick whose keys verify it.
    pub fn claimed_issuer(&self) -> Result<String, Rejection> {
        let issuer = dom::only_child(&self.doc, self.assertion, SAML, "Issuer")
            .ok_or(Rejection::IssuerMismatch)?;
        dom::plain_text(&self.doc, issuer)
    }

    /// Verifies the response as one from `idp` to this service provider.
    pub fn verify(
        &self,
        idp: &TrustedIdp<'_>,
        expected: &Expected<'_>,
    ) -> Result<VerifiedAssertion, Rejection> {
        let (xml, doc, response, assertion) = (self.xml, &self.doc, self.response, self.assertion);
        let signed = signature::check(doc, xml, response, assertion, idp.certificates)?;
        if !signed.assertion && (idp.require_signed_assertions || !signed.response) {
            return Err(Rejection::AssertionNotSigned);
        }
        check_issuers(doc, response, assertion, idp.entity_id)?;
        check_status(doc, response)?;
        match dom::attribute(doc, response, "Destination") {
            Some(destination) if destination == expected.acs_url => {}
            None if !signed.response => {}
            Some(_) | None => return Err(Rejection::DestinationMismatch),
        }
        let conditions_end = check_conditions(doc, assertion, expected)?;
        let subject =
            dom::only_child(doc, assertion, SAML, "Subject").ok_or(Rejection::MissingNameId)?;
        let name_id =
            dom::only_child(doc, subject, SAML, "NameID").ok_or(Rejection::MissingNameId)?;
        let name_id = dom::plain_text(doc, name_id)?;
        if name_id.is_empty() {
            return Err(Rejection::MissingNameId);
        }
        let confirmation = bearer_confirmation(doc, subject, expected)?;
        // The Response's InResponseTo counts only when the Response is
        // signed; an unsigned one must repeat the signed assertion's.
        let response_irt = dom::attribute(doc, response, "InResponseTo");
        let in_response_to = match (confirmation.in_response_to.as_deref(), response_irt) {
            (Some(a), Some(r)) if a != r => return Err(Rejection::UnknownInResponseTo),
            (None, Some(_)) if !signed.response => return Err(Rejection::UnknownInResponseTo),
            (a, r) => a.or(r).map(str::to_owned),
        };
        let xaccount_id = match idp.xaccount {
            XaccountSource::NameId => name_id.clone(),
            XaccountSource::Attribute(name) => attribute_value(doc, assertion, name)?,
        };
        let assertion_id = dom::attribute(doc, assertion, "ID")
            .ok_or(Rejection::NotAResponse("the assertion has no ID"))?
            .to_owned();
        let valid_until = match conditions_end {
            Some(end) => end.min(confirmation.not_on_or_after),
            None => confirmation.not_on_or_after,
        };
        let profile = ProfileAttributes {
            email: optional_attribute(doc, assertion, "email"),
            mobile: optional_attribute(doc, assertion, "mobile"),
            country: optional_attribute(doc, assertion, "country"),
            customer_id: optional_attribute(doc, assertion, "customer_id"),
        };
        Ok(VerifiedAssertion {
            assertion_id,
            name_id,
            xaccount_id,
            in_response_to,
            valid_until,
            profile,
        })
    }
}

/// The Response and its one Assertion. Signature wrapping needs a second copy
/// of a signed element somewhere in the message, so exactly one Response (the
/// root) and exactly one Assertion (its child) are allowed, and no ID twice.
fn envelope(doc: &Document<'_>) -> Result<(NodeId, NodeId), Rejection> {
    let response = doc
        .document_element()
        .filter(|root| dom::is(doc, *root, SAMLP, "Response"))
        .ok_or(Rejection::NotAResponse("the root is not a samlp:Response"))?;
    if dom::attribute(doc, response, "Version") != Some("2.0") {
        return Err(Rejection::NotAResponse("the Version is not 2.0"));
    }
    dom::refuse_duplicate_ids(doc)?;
    if dom::everywhere(doc, SAMLP, "Response").len() != 1 {
        return Err(Rejection::NotAResponse("a Response inside the Response"));
    }
    let assertions = dom::everywhere(doc, SAML, "Assertion");
    let encrypted = dom::everywhere(doc, SAML, "EncryptedAssertion");
    match assertions.as_slice() {
        [assertion] if encrypted.is_empty() && doc.parent(*assertion) == Some(response) => {
            Ok((response, *assertion))
        }
        _ => Err(Rejection::AssertionCount),
    }
}

fn check_issuers(
    doc: &Document<'_>,
    response: NodeId,
    assertion: NodeId,
    entity_id: &str,
) -> Result<(), Rejection> {
    let issuer =
        dom::only_child(doc, assertion, SAML, "Issuer").ok_or(Rejection::IssuerMismatch)?;
    if dom::plain_text(doc, issuer)? != entity_id {
        return Err(Rejection::IssuerMismatch);
    }
    match dom::children(doc, response, SAML, "Issuer").as_slice() {
        [] => Ok(()),
        [issuer] if dom::plain_text(doc, *issuer)? == entity_id => Ok(()),
        _ => Err(Rejection::IssuerMismatch),
    }
}

fn check_status(doc: &Document<'_>, response: NodeId) -> Result<(), Rejection> {
    let code = dom::only_child(doc, response, SAMLP, "Status")
        .and_then(|status| dom::only_child(doc, status, SAMLP, "StatusCode"))
        .and_then(|code| dom::attribute(doc, code, "Value"))
        .ok_or(Rejection::NotAResponse("no Status/StatusCode"))?;
    if code == SUCCESS {
        Ok(())
    } else {
        Err(Rejection::StatusNotSuccess(code.to_owned()))
    }
}

/// Time window and audience; returns the conditions' `NotOnOrAfter`.
fn check_conditions(
    doc: &Document<'_>,
    assertion: NodeId,
    expected: &Expected<'_>,
) -> Result<Option<DateTime<Utc>>, Rejection> {
    let conditions =
        dom::only_child(doc, assertion, SAML, "Conditions").ok_or(Rejection::AudienceMismatch)?;
    if let Some(not_before) = time_attribute(doc, conditions, "NotBefore")?
        && expected.now + expected.skew < not_before
    {
        return Err(Rejection::NotYetValid);
    }
    let not_on_or_after = time_attribute(doc, conditions, "NotOnOrAfter")?;
    if let Some(end) = not_on_or_after
        && expected.now - expected.skew >= end
    {
        return Err(Rejection::Expired);
    }
    let restrictions = dom::children(doc, conditions, SAML, "AudienceRestriction");
    if restrictions.is_empty() {
        return Err(Rejection::AudienceMismatch);
    }
    for restriction in restrictions {
        let mut ours = false;
        for audience in dom::children(doc, restriction, SAML, "Audience") {
            ours |= dom::plain_text(doc, audience)? == expected.sp_entity_id;
        }
        if !ours {
            return Err(Rejection::AudienceMismatch);
        }
    }
    Ok(not_on_or_after)
}

struct Confirmation {
    in_response_to: Option<String>,
    not_on_or_after: DateTime<Utc>,
}

/// The bearer confirmation addressed to our ACS URL, still in its window.
fn bearer_confirmation(
    doc: &Document<'_>,
    subject: NodeId,
    expected: &Expected<'_>,
) -> Result<Confirmation, Rejection> {
    for confirmation in dom::children(doc, subject, SAML, "SubjectConfirmation") {
        if dom::attribute(doc, confirmation, "Method") != Some(BEARER) {
            continue;
        }
        let Some(data) = dom::only_child(doc, confirmation, SAML, "SubjectConfirmationData") else {
            continue;
        };
        if dom::attribute(doc, data, "Recipient") != Some(expected.acs_url) {
            continue;
        }
        // A bearer confirmation must bound its own lifetime (SAML profiles §4.1.4.2).
        let Some(not_on_or_after) = time_attribute(doc, data, "NotOnOrAfter")? else {
            continue;
        };
        if let Some(not_before) = time_attribute(doc, data, "NotBefore")?
            && expected.now + expected.skew < not_before
        {
            return Err(Rejection::NotYetValid);
        }
        if expected.now - expected.skew >= not_on_or_after {
            return Err(Rejection::Expired);
        }
        return Ok(Confirmation {
            in_response_to: dom::attribute(doc, data, "InResponseTo").map(str::to_owned),
            not_on_or_after,
        });
    }
    Err(Rejection::RecipientMismatch)
}

/// The one value of the one attribute named `name`, as plain text.
fn attribute_value(doc: &Document<'_>, assertion: NodeId, name: &str) -> Result<String, Rejection> {
    let missing = || Rejection::MissingXaccount(name.to_owned());
    let attributes: Vec<NodeId> = dom::children(doc, assertion, SAML, "AttributeStatement")
        .into_iter()
        .flat_map(|statement| dom::children(doc, statement, SAML, "Attribute"))
        .filter(|attribute| dom::attribute(doc, *attribute, "Name") == Some(name))
        .collect();
    let [attribute] = attributes[..] else {
        return Err(missing());
    };
    let [value] = dom::children(doc, attribute, SAML, "AttributeValue")[..] else {
        return Err(missing());
    };
    let text = dom::plain_text(doc, value)?;
    if text.is_empty() {
        return Err(missing());
    }
    Ok(text)
}

/// An attribute that may be absent: absent, repeated, multi-valued, empty
/// or holding markup is `None` — a first sign-in that needs it refuses then,
/// and a sign-in that does not is not held up by it.
fn optional_attribute(doc: &Document<'_>, assertion: NodeId, name: &str) -> Option<String> {
    attribute_value(doc, assertion, name).ok()
}

fn time_attribute(
    doc: &Document<'_>,
    node: NodeId,
    name: &str,
) -> Result<Option<DateTime<Utc>>, Rejection> {
    dom::attribute(doc, node, name)
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                // Within the calendar the platform stores (years 1-9999),
                // so the replay cache orders it correctly.
                .and_then(|t| time::checked_add(t, Duration::zero()).ok())
                .ok_or(Rejection::NotAResponse(
                    "a time that is not an xs:dateTime of years 1-9999",
                ))
        })
        .transpose()
}
