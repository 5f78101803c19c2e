//! The platform's SAML 2.0 service-provider metadata, which partners load
//! into their IdPs: our entity id, the ACS (HTTP-POST), and the certificate
//! that verifies our signed AuthnRequests.

use super::escape;
use super::key::SpKey;
use crate::service::ServiceProvider;

/// The metadata document.
pub fn render(sp: &ServiceProvider, key: &SpKey) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">"#,
            "\n  ",
            r#"<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
            "\n    ",
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
            "\n    ",
            r#"<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"#,
            "\n    ",
            r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/>"#,
            "\n  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n",
        ),
        entity = escape::xml(&sp.entity_id),
        cert = key.certificate_base64(),
        acs = escape::xml(&sp.acs_url),
    )
}
