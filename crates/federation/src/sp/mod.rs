//! This platform as a SAML service provider: its signing key (made by the
//! first replica that needs it, sealed at rest) and its metadata.

pub(crate) mod escape;
pub mod key;
pub mod metadata;
mod store;

use std::sync::Arc;

use partner_kernel::db::Db;
use partner_kernel::seal::Sealer;
use tokio::sync::OnceCell;

use crate::error::FederationError;
use key::SpKey;

/// The signing key, loaded once per process.
#[derive(Debug, Clone)]
pub struct SpKeys {
    db: Db,
    sealer: Sealer,
    /// Common name of a certificate made here.
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

    /// The key in use: the stored one, or a new one when there is none yet.
    pub async fn current(&self) -> Result<Arc<SpKey>, FederationError> {
        self.loaded
            .get_or_try_init(|| async { self.load_or_create().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Seals a stored key that is plain while a master key is configured
    /// (at start, like the other secrets; a key is never made here).
    pub async fn seal_stored(&self) -> Result<(), FederationError> {
        let Some(row) = store::current(self.db.conn()).await? else {
            return Ok(());
        };
        if self.sealer.enabled() && !Sealer::is_sealed(&row.private_key) {
            let sealed = self
                .sealer
                .seal(&row.private_key, &store::seal_context(&row.kid))?;
            store::reseal(self.db.conn(), &row.kid, &row.private_key, sealed).await?;
        }
        Ok(())
    }

    async fn load_or_create(&self) -> Result<SpKey, FederationError> {
        if let Some(row) = store::current(self.db.conn()).await? {
            return self.open(row);
        }
        let name = self.common_name.clone();
        let generated = tokio::task::spawn_blocking(move || key::generate(&name))
            .await
            .map_err(|e| {
                FederationError::Kernel(partner_kernel::error::KernelError::Corrupt(format!(
                    "SAML key generation stopped: {e}"
                )))
            })??;
        let kid = format!("spk_{}", uuid::Uuid::now_v7().simple());
        store::insert_if_empty(
            self.db.conn(),
            &kid,
            &generated.pkcs8_der,
            generated.certificate_der,
            &self.sealer,
            chrono::Utc::now(),
        )
        .await?;
        let row = store::current(self.db.conn()).await?.ok_or_else(|| {
            FederationError::Kernel(partner_kernel::error::KernelError::Corrupt(
                "the SAML signing key vanished after it was stored".into(),
            ))
        })?;
        self.open(row)
    }

    fn open(&self, row: crate::entity::sp_key::Model) -> Result<SpKey, FederationError> {
        let context = store::seal_context(&row.kid);
        // Plain while a master key is configured only if another replica
        // stored it before its own start sealed it; `seal_stored` will.
        let pkcs8 = if Sealer::is_sealed(&row.private_key) || !self.sealer.enabled() {
            self.sealer.open(&row.private_key, &context)?
        } else {
            row.private_key.clone()
        };
        SpKey::from_stored(row.kid, &pkcs8, row.certificate_der)
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
