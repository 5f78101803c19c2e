//! This platform as a SAML service provider: its signing key (made by the
//! first replica that needs it, sealed at rest) and its metadata.

pub(crate) mod escape;
pub mod key;
pub mod metadata;

use std::sync::Arc;

use partner_kernel::db::Db;
use partner_kernel::seal::Sealer;
use partner_kernel::secrets;
use tokio::sync::OnceCell;

use crate::error::FederationError;
use key::SpKey;

/// The server secret that holds the key (PKCS#8 DER).
pub const SECRET_NAME: &str = "saml_signing_key";

/// The signing key, loaded once per process.
#[derive(Debug, Clone)]
pub struct SpKeys {
    db: Db,
    sealer: Sealer,
    /// Common name of the certificate.
    common_name: String,
    loaded: Arc<OnceCell<Arc<SpKey>>>,
}

impl SpKeys {
    pub fn new(db: Db, sealer: Sealer, common_name: String) -> Self {
        Self {
            db,
            sealer,
            common_name,
            loaded: Arc::new(OnceCell::new()),
        }
    }

    /// The key in use: the stored one, or one made now when no server made
    /// one yet (a server secret, so it is made once and sealed like the rest).
    pub async fn current(&self) -> Result<Arc<SpKey>, FederationError> {
        self.loaded
            .get_or_try_init(|| async {
                let now = chrono::Utc::now();
                let pkcs8 = secrets::load_or_create_with(
                    &self.db,
                    SECRET_NAME,
                    now,
                    &self.sealer,
                    || async {
                        tokio::task::spawn_blocking(key::generate)
                            .await
                            .map_err(|e| {
                                partner_kernel::error::KernelError::Corrupt(format!(
                                    "SAML key generation stopped: {e}"
                                ))
                            })?
                            .map_err(|e| partner_kernel::error::KernelError::Corrupt(e.to_string()))
                    },
                )
                .await?;
                SpKey::from_pkcs8(&pkcs8, &self.common_name).map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Seals a stored key that is plain while a master key is configured
    /// (at start, like the other secrets; a key is never made here).
    pub async fn seal_stored(&self) -> Result<(), FederationError> {
        secrets::load(&self.db, SECRET_NAME, &self.sealer).await?;
        Ok(())
    }
}

impl crate::service::Federation {
    /// Seals the stored SAML signing key if a master key is now configured.
    pub async fn seal_stored_key(&self) -> Result<(), FederationError> {
        self.sp_keys.seal_stored().await
    }

    /// Our metadata, for partners to load into their IdPs.
    pub async fn service_provider_metadata(
        &self,
    ) -> Result<partner_api::iam::v1::GetServiceProviderMetadataResponse, FederationError> {
        let key = self.sp_keys.current().await?;
        Ok(partner_api::iam::v1::GetServiceProviderMetadataResponse {
            entity_id: self.sp.entity_id.clone(),
            acs_url: self.sp.acs_url.clone(),
            metadata_xml: metadata::render(&self.sp, &key),
            signing_certificate_pem: key.certificate_pem(),
            signing_certificate_sha256: key.fingerprint(),
        })
    }
}
