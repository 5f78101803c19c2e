//! SAML federation's tests, in one binary (each test binary is linked against
//! the whole server, so fewer binaries build faster and take less disk): the
//! service provider's rules, browser sign-ins and first sign-ins.

mod federation;
mod federation_browser;
mod federation_first_login;
