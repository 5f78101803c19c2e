//! Token-signing keys: the ring in force ([`ring`]), its storage
//! ([`store`]), and the operator's verbs on it: list, rotate, retire — each
//! change through the one write path, then the ring of this process is
//! reloaded (other processes reload on their own timer).

pub mod ring;
pub mod store;

pub use ring::{KeyRing, Keys};

use std::sync::Arc;

use partner_api::iam::v1 as pb;
use partner_kernel::db::Db;
use partner_kernel::ids::SigningKeyId;
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};

use crate::access as perm;
use crate::error::GatewayError;

/// The signing-key verbs.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    db: Db,
    keys: Arc<Keys>,
}

impl SigningKeys {
    /// The verbs over the ring `keys` stored in `db`.
    pub fn new(db: Db, keys: Arc<Keys>) -> Self {
        Self { db, keys }
    }

    /// Every key, newest first.
    pub async fn list(&self, p: &Principal) -> Result<Vec<pb::SigningKey>, GatewayError> {
        p.require(perm::PLATFORM_SIGNING_KEYS_READ)?;
        let keys = store::list(self.db.conn()).await?;
        keys.iter().map(store::to_proto).collect()
    }

    /// A new ACTIVE key; the previous one verifies only.
    pub async fn rotate(
        &self,
        m: Mutation,
        reason: String,
    ) -> Result<pb::RotateSigningKeyResponse, GatewayError> {
        m.principal.require(perm::PLATFORM_SIGNING_KEYS_MANAGE)?;
        let (now, sealer) = (m.now, self.keys.sealer().clone());
        let response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let key = store::rotate(tx, now, &sealer).await?;
                let change = Change::of(None, &key.kid)
                    .reason(reason)
                    .after(store::audit_summary(&key));
                let response = pb::RotateSigningKeyResponse {
                    signing_key: Some(store::to_proto(&key)?),
                };
                Ok::<_, GatewayError>(Outcome::new(response, change))
            })
        })
        .await?;
        self.keys.reload().await?;
        Ok(response)
    }

    /// Retires a VERIFY_ONLY key: the tokens it signed are refused.
    pub async fn retire(
        &self,
        m: Mutation,
        kid: SigningKeyId,
        reason: String,
    ) -> Result<pb::RetireSigningKeyResponse, GatewayError> {
        m.principal.require(perm::PLATFORM_SIGNING_KEYS_MANAGE)?;
        let now = m.now;
        let response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let (before, after) = store::retire(tx, &kid.to_string(), now).await?;
                let change = Change::of(None, kid)
                    .reason(reason)
                    .before(store::audit_summary(&before))
                    .after(store::audit_summary(&after));
                let response = pb::RetireSigningKeyResponse {
                    signing_key: Some(store::to_proto(&after)?),
                };
                Ok::<_, GatewayError>(Outcome::new(response, change))
            })
        })
        .await?;
        self.keys.reload().await?;
        Ok(response)
    }
}
