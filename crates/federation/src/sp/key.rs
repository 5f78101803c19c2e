//! The platform's SAML signing key: RSA-2048 with a self-signed certificate
//! (IdPs take the certificate from our metadata only as a key carrier, so
//! self-signed is what they expect), signing AuthnRequests with RSA-SHA256.

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::sha2::{Digest, Sha256};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use crate::error::FederationError;

/// RSA modulus size: what every IdP accepts.
const BITS: usize = 2048;
/// The certificate's fixed validity (2026-01-01 to 2049-12-31, UTC): SAML
/// peers pin the key, not the dates, and fixed dates keep the certificate
/// the same wherever it is made.
const NOT_BEFORE_SECS: u64 = 1_767_225_600;
const NOT_AFTER_SECS: u64 = 2_524_607_999;
/// The algorithm URI of the signatures this key makes.
pub const SIG_ALG: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

fn failed(what: &str, e: impl std::fmt::Display) -> FederationError {
    FederationError::Kernel(partner_kernel::error::KernelError::Corrupt(format!(
        "SAML signing key: {what}: {e}"
    )))
}

/// A new key, as PKCS#8 DER (the form stored as a server secret).
/// CPU-heavy (prime search): run it off the async workers.
pub fn generate() -> Result<Vec<u8>, FederationError> {
    let private =
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, BITS).map_err(|e| failed("generate", e))?;
    Ok(private
        .to_pkcs8_der()
        .map_err(|e| failed("encode", e))?
        .as_bytes()
        .to_vec())
}

/// Keeps a name's characters from being read as RDN syntax.
fn escape_rdn(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .take(64)
        .map(|c| match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' | '#' => '_',
            c => c,
        })
        .collect()
}

/// The self-signed certificate of `private` naming `common_name`, derived
/// from them alone (serial from the public key, fixed dates, a
/// deterministic PKCS#1 v1.5 signature): every server makes the same one.
fn certificate(private: &RsaPrivateKey, common_name: &str) -> Result<Vec<u8>, FederationError> {
    let signer = SigningKey::<Sha256>::new(private.clone());
    let public = SubjectPublicKeyInfoOwned::from_key(private.to_public_key())
        .map_err(|e| failed("public key", e))?;
    let public_der = public.to_der().map_err(|e| failed("public key", e))?;
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&Sha256::digest(&public_der)[..16]);
    serial[0] = (serial[0] & 0x7f) | 0x40; // positive, no leading zero
    let serial = SerialNumber::new(&serial).map_err(|e| failed("serial", e))?;
    let subject = Name::from_str(&format!("CN={}", escape_rdn(common_name)))
        .map_err(|e| failed("subject", e))?;
    let at = |secs| {
        Time::try_from(UNIX_EPOCH + Duration::from_secs(secs)).map_err(|e| failed("validity", e))
    };
    let validity = Validity {
        not_before: at(NOT_BEFORE_SECS)?,
        not_after: at(NOT_AFTER_SECS)?,
    };
    CertificateBuilder::new(Profile::Root, serial, validity, subject, public, &signer)
        .map_err(|e| failed("certificate", e))?
        .build::<Signature>()
        .map_err(|e| failed("certificate", e))?
        .to_der()
        .map_err(|e| failed("encode", e))
}

/// The key in use.
pub struct SpKey {
    signer: SigningKey<Sha256>,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for SpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpKey").finish_non_exhaustive()
    }
}

impl SpKey {
    /// The key stored as `pkcs8_der`, with its certificate naming `common_name`.
    pub fn from_pkcs8(pkcs8_der: &[u8], common_name: &str) -> Result<Self, FederationError> {
        let private =
            RsaPrivateKey::from_pkcs8_der(pkcs8_der).map_err(|e| failed("stored key", e))?;
        Ok(Self {
            certificate_der: certificate(&private, common_name)?,
            signer: SigningKey::<Sha256>::new(private),
        })
    }

    /// The certificate's DER in base64, as `<ds:X509Certificate>` carries it.
    pub fn certificate_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.certificate_der)
    }

    /// The certificate in PEM.
    pub fn certificate_pem(&self) -> String {
        let b64 = self.certificate_base64();
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// Hex SHA-256 of the certificate's DER.
    pub fn fingerprint(&self) -> String {
        crate::random::hex(&Sha256::digest(&self.certificate_der))
    }

    /// An RSA-SHA256 (PKCS#1 v1.5) signature over `data`, blinded (the
    /// route that asks for it is public, so its timing must not depend on
    /// the key).
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.signer
            .sign_with_rng(&mut rsa::rand_core::OsRng, data)
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::VerifyingKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use x509_cert::der::Decode;

    #[test]
    fn a_generated_key_signs_what_its_certificate_verifies() {
        let stored = generate().unwrap_or_else(|e| panic!("{e}"));
        let key =
            SpKey::from_pkcs8(&stored, "sp.example, evil=1").unwrap_or_else(|e| panic!("{e}"));
        // Made again from what is stored, the certificate is the same.
        let again =
            SpKey::from_pkcs8(&stored, "sp.example, evil=1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.certificate_der, key.certificate_der);
        let cert = x509_cert::Certificate::from_der(&key.certificate_der)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cert.tbs_certificate.subject.to_string(),
            "CN=sp.example_ evil_1"
        );
        let spki_der = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap_or_else(|e| panic!("{e}"));
        let public =
            rsa::RsaPublicKey::from_public_key_der(&spki_der).unwrap_or_else(|e| panic!("{e}"));
        let verifier = VerifyingKey::<Sha256>::new(public);
        let sig = Signature::try_from(key.sign(b"SAMLRequest=x").as_slice())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(verifier.verify(b"SAMLRequest=x", &sig).is_ok());
        assert!(verifier.verify(b"SAMLRequest=y", &sig).is_err());
        assert!(
            key.certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\nMII")
        );
    }
}
