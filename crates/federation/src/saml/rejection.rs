//! Why a SAML response was not accepted. Each case is its own reason, so a
//! partner integrating its IdP can tell what to fix, and each has a test.

/// A refused SAML response. Nothing is created for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Bigger than the caps on the encoded, decoded or inflated message.
    #[error("the SAML message is too large")]
    TooLarge,
    /// Not base64, not DEFLATE, or not UTF-8.
    #[error("the SAML message is not valid base64 / DEFLATE / UTF-8")]
    BadEncoding,
    /// Not well-formed XML (truncated, unbalanced, …).
    #[error("the SAML message is not well-formed XML")]
    MalformedXml,
    /// A DOCTYPE (and so possibly entities) is present.
    #[error("DOCTYPE and entity declarations are not accepted")]
    Doctype,
    /// Not a SAML 2.0 Response, or a shape no conforming IdP sends.
    #[error("not a SAML 2.0 Response: {0}")]
    NotAResponse(&'static str),
    /// Zero, or more than one, assertion; or an encrypted one.
    #[error("the response must carry exactly one assertion as a child of the Response")]
    AssertionCount,
    /// Two elements carry the same ID.
    #[error("duplicate ID attributes")]
    DuplicateIds,
    /// No signature at all.
    #[error("the response is not signed")]
    Unsigned,
    /// The assertion itself is unsigned and the IdP requires signed assertions.
    #[error("the assertion is not signed")]
    AssertionNotSigned,
    /// A signature sits somewhere other than directly in the Response or the Assertion.
    #[error("a signature is not on the Response or the Assertion")]
    SignatureMisplaced,
    /// A reference that is not exactly `#ID` of the signature's parent.
    #[error("a signature reference does not point at the element that holds it")]
    ReferenceMismatch,
    /// An algorithm or transform outside the allowed set (SHA-1, XPath, XSLT, …).
    #[error("algorithm not accepted: {0:.128}")]
    AlgorithmNotAllowed(String),
    /// No registered key verifies the signature (including a valid signature
    /// by another key, and a tampered signed element).
    #[error("the signature does not verify with the identity provider's registered certificates")]
    SignatureInvalid,
    /// The issuer is not the identity provider's entity id.
    #[error("the issuer is not the identity provider")]
    IssuerMismatch,
    /// The IdP answered with a status other than Success.
    #[error("the identity provider answered with status {0:.128}")]
    StatusNotSuccess(String),
    /// `NotBefore` is in the future.
    #[error("the assertion is not yet valid")]
    NotYetValid,
    /// `NotOnOrAfter` has passed.
    #[error("the assertion has expired")]
    Expired,
    /// The audience is not this service provider.
    #[error("the assertion is for another audience")]
    AudienceMismatch,
    /// The response's Destination is not this ACS URL.
    #[error("the response is for another destination")]
    DestinationMismatch,
    /// No bearer confirmation whose Recipient is this ACS URL.
    #[error("the subject confirmation is for another recipient, or missing")]
    RecipientMismatch,
    /// No NameID in the subject.
    #[error("the assertion has no NameID")]
    MissingNameId,
    /// The xaccount attribute is missing, repeated, empty or not plain text.
    #[error("the xaccount attribute {0} is missing, repeated or empty")]
    MissingXaccount(String),
    /// A comment, element or processing instruction inside identity text.
    #[error("identity text must be plain text (no comments or markup)")]
    MarkupInIdentity,
    /// `InResponseTo` names no outstanding request of this IdP.
    #[error("InResponseTo matches no outstanding request")]
    UnknownInResponseTo,
    /// The assertion id was already used.
    #[error("the assertion was already used")]
    Replayed,
    /// No identity provider is registered with this issuer.
    #[error("no identity provider is registered for this issuer")]
    UnknownIssuer,
}

impl Rejection {
    /// The `ErrorInfo` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::TooLarge => "SAML_TOO_LARGE",
            Rejection::BadEncoding => "SAML_BAD_ENCODING",
            Rejection::MalformedXml => "SAML_MALFORMED",
            Rejection::Doctype => "SAML_DOCTYPE",
            Rejection::NotAResponse(_) => "SAML_NOT_A_RESPONSE",
            Rejection::AssertionCount => "SAML_ASSERTION_COUNT",
            Rejection::DuplicateIds => "SAML_DUPLICATE_IDS",
            Rejection::Unsigned => "SAML_UNSIGNED",
            Rejection::AssertionNotSigned => "SAML_ASSERTION_NOT_SIGNED",
            Rejection::SignatureMisplaced => "SAML_SIGNATURE_MISPLACED",
            Rejection::ReferenceMismatch => "SAML_REFERENCE_MISMATCH",
            Rejection::AlgorithmNotAllowed(_) => "SAML_ALGORITHM_NOT_ALLOWED",
            Rejection::SignatureInvalid => "SAML_SIGNATURE_INVALID",
            Rejection::IssuerMismatch => "SAML_ISSUER_MISMATCH",
            Rejection::StatusNotSuccess(_) => "SAML_STATUS_NOT_SUCCESS",
            Rejection::NotYetValid => "SAML_NOT_YET_VALID",
            Rejection::Expired => "SAML_EXPIRED",
            Rejection::AudienceMismatch => "SAML_AUDIENCE_MISMATCH",
            Rejection::DestinationMismatch => "SAML_DESTINATION_MISMATCH",
            Rejection::RecipientMismatch => "SAML_RECIPIENT_MISMATCH",
            Rejection::MissingNameId => "SAML_MISSING_NAMEID",
            Rejection::MissingXaccount(_) => "SAML_MISSING_XACCOUNT",
            Rejection::MarkupInIdentity => "SAML_MARKUP_IN_IDENTITY",
            Rejection::UnknownInResponseTo => "SAML_UNKNOWN_IN_RESPONSE_TO",
            Rejection::Replayed => "SAML_REPLAYED",
            Rejection::UnknownIssuer => "SAML_UNKNOWN_ISSUER",
        }
    }

    /// Whether the message itself is unusable (`INVALID_ARGUMENT`) rather
    /// than a well-formed response that does not authenticate (`UNAUTHENTICATED`).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Rejection::TooLarge
                | Rejection::BadEncoding
                | Rejection::MalformedXml
                | Rejection::Doctype
                | Rejection::NotAResponse(_)
        )
    }
}
