//! Which signatures count: our rules on top of XML-DSig.
//!
//! A signature must sit directly in the Response or the Assertion, reference
//! exactly that element by its unique ID, use only the enveloped-signature and
//! exclusive-C14N transforms and SHA-2, and verify with one of the identity
//! provider's registered certificates (certificates in the message are never
//! used). Every signature in the message must pass; the caller learns which of
//! the two elements are signed.

use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;
use bergshamra_keys::loader;
use bergshamra_xml::uppsala::{Document, NodeId};

use super::dom::{self, DS};
use super::rejection::Rejection;

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SIGNATURE_METHODS: [&str; 6] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];
const DIGEST_METHODS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];

/// Which of the two signable elements carry a valid signature.
#[derive(Debug, Clone, Copy)]
pub struct Signed {
    /// The Response element is signed.
    pub response: bool,
    /// The Assertion element is signed.
    pub assertion: bool,
}

/// Checks every signature in `doc` against the rules above.
pub fn check(
    doc: &Document<'_>,
    xml: &str,
    response: NodeId,
    assertion: NodeId,
    certificates: &[Vec<u8>],
) -> Result<Signed, Rejection> {
    let signatures = dom::everywhere(doc, DS, "Signature");
    if signatures.is_empty() {
        return Err(Rejection::Unsigned);
    }
    // At most one signature on each of the two elements: every signature
    // costs a canonicalization of what it covers, so more would only be work.
    if signatures.len() > 2 {
        return Err(Rejection::SignatureMisplaced);
    }
    for signature in &signatures {
        let parent = doc
            .parent(*signature)
            .filter(|p| *p == response || *p == assertion)
            .ok_or(Rejection::SignatureMisplaced)?;
        check_signed_info(doc, *signature, parent)?;
    }
    if let [a, b] = signatures[..]
        && doc.parent(a) == doc.parent(b)
    {
        return Err(Rejection::SignatureMisplaced);
    }
    let mut keys = KeysManager::new();
    for der in certificates {
        keys.add_key(loader::load_x509_cert_der(der).map_err(|_| Rejection::SignatureInvalid)?);
    }
    // Trusted keys only and strict reference positions: bergshamra's
    // defaults, set here so that no upgrade can loosen them.
    let context = DsigContext::new(keys)
        .with_trusted_keys_only(true)
        .with_strict_verification(true);
    // Duplicate IDs were refused with the envelope; any error here is the signature's.
    let results =
        bergshamra_dsig::verify::verify_all_document_with_source(&context, doc, Some(xml))
            .map_err(|_| Rejection::SignatureInvalid)?;
    let mut signed = Signed {
        response: false,
        assertion: false,
    };
    for result in results {
        let VerifyResult::Valid {
            signature_node,
            references,
            ..
        } = result
        else {
            return Err(Rejection::SignatureInvalid);
        };
        let parent = doc.parent(signature_node);
        match references.as_slice() {
            [only]
                if only.digest_verified
                    && only.resolved_node.is_some()
                    && only.resolved_node == parent => {}
            _ => return Err(Rejection::ReferenceMismatch),
        }
        if parent == Some(response) {
            signed.response = true;
        } else if parent == Some(assertion) {
            signed.assertion = true;
        } else {
            return Err(Rejection::SignatureMisplaced);
        }
    }
    Ok(signed)
}

/// The algorithms and the one reference of a signature, before any crypto.
fn check_signed_info(
    doc: &Document<'_>,
    signature: NodeId,
    parent: NodeId,
) -> Result<(), Rejection> {
    let signed_info =
        dom::only_child(doc, signature, DS, "SignedInfo").ok_or(Rejection::SignatureInvalid)?;
    let algorithm_of = |node: Option<NodeId>| -> Result<String, Rejection> {
        node.and_then(|n| dom::attribute(doc, n, "Algorithm"))
            .map(str::to_owned)
            .ok_or(Rejection::SignatureInvalid)
    };
    let c14n = algorithm_of(dom::only_child(
        doc,
        signed_info,
        DS,
        "CanonicalizationMethod",
    ))?;
    if c14n != EXC_C14N {
        return Err(Rejection::AlgorithmNotAllowed(c14n));
    }
    let method = algorithm_of(dom::only_child(doc, signed_info, DS, "SignatureMethod"))?;
    if !SIGNATURE_METHODS.contains(&method.as_str()) {
        return Err(Rejection::AlgorithmNotAllowed(method));
    }
    let [reference] = dom::children(doc, signed_info, DS, "Reference")[..] else {
        return Err(Rejection::ReferenceMismatch);
    };
    let expected = dom::attribute(doc, parent, "ID").map(|id| format!("#{id}"));
    if expected.is_none() || dom::attribute(doc, reference, "URI").map(str::to_owned) != expected {
        return Err(Rejection::ReferenceMismatch);
    }
    // Exactly enveloped-signature then exclusive C14N: without the second,
    // the reference would be digested with inclusive C14N.
    let transforms: Vec<NodeId> = dom::only_child(doc, reference, DS, "Transforms")
        .map(|t| doc.children(t))
        .unwrap_or_default()
        .into_iter()
        .filter(|t| doc.element(*t).is_some())
        .collect();
    for transform in &transforms {
        let algorithm = algorithm_of(Some(*transform))?;
        if !dom::is(doc, *transform, DS, "Transform")
            || ![ENVELOPED, EXC_C14N].contains(&algorithm.as_str())
        {
            return Err(Rejection::AlgorithmNotAllowed(algorithm));
        }
    }
    let algorithms: Vec<Option<&str>> = transforms
        .iter()
        .map(|t| dom::attribute(doc, *t, "Algorithm"))
        .collect();
    if algorithms != [Some(ENVELOPED), Some(EXC_C14N)] {
        return Err(Rejection::AlgorithmNotAllowed(
            "transforms other than enveloped-signature then exclusive C14N".into(),
        ));
    }
    let digest = algorithm_of(dom::only_child(doc, reference, DS, "DigestMethod"))?;
    if !DIGEST_METHODS.contains(&digest.as_str()) {
        return Err(Rejection::AlgorithmNotAllowed(digest));
    }
    Ok(())
}
