//! SAML federation: a partner's sales platform is the identity provider, this
//! platform the service provider.

pub mod saml;
