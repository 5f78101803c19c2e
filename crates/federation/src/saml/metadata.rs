//! Reading a partner's IdP metadata (SAML 2.0 metadata, one EntityDescriptor).

use base64::Engine;
use bergshamra_keys::loader;

use super::dom::{self, DS};

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// The largest metadata document accepted.
pub const MAX_METADATA_BYTES: usize = 2 * 1024 * 1024;

/// What the platform keeps from an IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `entityID`.
    pub entity_id: String,
    /// DER of each signing certificate.
    pub certificates: Vec<Vec<u8>>,
    /// The HTTP-Redirect SingleSignOnService location.
    pub sso_url: String,
}

/// Why metadata was not accepted; the text is shown to the partner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MetadataError(pub String);

fn bad(text: impl Into<String>) -> MetadataError {
    MetadataError(text.into())
}

/// Parses and checks IdP metadata.
pub fn parse(xml: &str) -> Result<IdpMetadata, MetadataError> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(bad("metadata is larger than 2 MiB"));
    }
    let doc = dom::parse(xml).map_err(|e| bad(e.to_string()))?;
    let entity = doc
        .document_element()
        .filter(|root| dom::is(&doc, *root, MD, "EntityDescriptor"))
        .ok_or_else(|| bad("the root is not an md:EntityDescriptor"))?;
    let entity_id = dom::attribute(&doc, entity, "entityID")
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 1024)
        .ok_or_else(|| bad("entityID is missing or longer than 1024 characters"))?
        .to_owned();
    let idp = dom::only_child(&doc, entity, MD, "IDPSSODescriptor")
        .ok_or_else(|| bad("exactly one IDPSSODescriptor is required"))?;
    let mut certificates = Vec::new();
    for descriptor in dom::children(&doc, idp, MD, "KeyDescriptor") {
        if dom::attribute(&doc, descriptor, "use").is_some_and(|u| u != "signing") {
            continue;
        }
        let Some(key_info) = dom::only_child(&doc, descriptor, DS, "KeyInfo") else {
            continue;
        };
        for data in dom::children(&doc, key_info, DS, "X509Data") {
            for cert in dom::children(&doc, data, DS, "X509Certificate") {
                let text = dom::plain_text(&doc, cert).map_err(|e| bad(e.to_string()))?;
                let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|_| bad("an X509Certificate is not base64"))?;
                loader::load_x509_cert_der(&der)
                    .map_err(|e| bad(format!("an X509Certificate cannot be used: {e}")))?;
                if !certificates.contains(&der) {
                    certificates.push(der);
                }
            }
        }
    }
    if certificates.is_empty() {
        return Err(bad(
            "no signing certificate (KeyDescriptor use=\"signing\")",
        ));
    }
    if certificates.len() > 4 {
        return Err(bad("more than 4 signing certificates"));
    }
    let sso_url = dom::children(&doc, idp, MD, "SingleSignOnService")
        .into_iter()
        .find(|s| dom::attribute(&doc, *s, "Binding") == Some(REDIRECT))
        .and_then(|s| dom::attribute(&doc, s, "Location"))
        .ok_or_else(|| bad("no HTTP-Redirect SingleSignOnService"))?;
    let sso_url = crate::urls::browser_url(sso_url)
        .ok()
        .filter(|u| u.fragment().is_none() && u.as_str().len() <= 2048)
        .ok_or_else(|| {
            bad("the HTTP-Redirect SingleSignOnService Location must be an https URL without a fragment (http only on localhost), at most 2048 characters")
        })?
        .to_string();
    Ok(IdpMetadata {
        entity_id,
        certificates,
        sso_url,
    })
}
