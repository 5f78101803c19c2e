//! `partner.iam.v1.SigningKeyService`: the operator's view of the token
//! signing keys, and rotation and retirement with idempotency and audit.

use std::sync::Arc;

use partner_api::iam::v1::{self as pb, signing_key_service_server::SigningKeyService};
use partner_kernel::audit::{self, AuditEntry};
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::idempotency::{self, fingerprint};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::secrets::SecretKey;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use crate::access as perm;
use crate::error::GatewayError;
use crate::keys::Keys;
use crate::rotation;

const ROTATE: &str = "partner.iam.v1.SigningKeyService/RotateSigningKey";
const RETIRE: &str = "partner.iam.v1.SigningKeyService/RetireSigningKey";

/// Serves `SigningKeyService`.
#[derive(Debug, Clone)]
pub struct SigningKeysApi {
    db: Db,
    keys: Arc<Keys>,
    clock: SharedClock,
    fingerprints: SecretKey,
}

impl SigningKeysApi {
    /// The API over the key ring `keys` stored in `db`.
    pub fn new(db: Db, keys: Arc<Keys>, clock: SharedClock, fingerprints: SecretKey) -> Self {
        Self {
            db,
            keys,
            clock,
            fingerprints,
        }
    }

    /// Reloads this process's ring after a change; other processes reload on their own timer.
    async fn reload(&self) -> Result<(), Status> {
        self.keys.reload().await.map_err(Status::from)
    }
}

#[tonic::async_trait]
impl SigningKeyService for SigningKeysApi {
    async fn list_signing_keys(
        &self,
        req: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListSigningKeysRequest {} = req.into_inner();
        principal.require(perm::PLATFORM_SIGNING_KEYS_READ)?;
        let keys = rotation::list(self.db.conn()).await?;
        Ok(Response::new(pb::ListSigningKeysResponse {
            signing_keys: keys.iter().map(rotation::to_proto).collect(),
        }))
    }

    async fn rotate_signing_key(
        &self,
        req: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let fp = fingerprint(&self.fingerprints, req.get_ref());
        let pb::RotateSigningKeyRequest { request_id, reason } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let reason = v.take("reason", validate::text(&reason, 0, 512));
        let (request_id, reason) = v.finish_with(request_id.zip(reason))?;
        principal.require(perm::PLATFORM_SIGNING_KEYS_MANAGE)?;
        let m = Mutation::new(principal, ROTATE, request_id, self.clock.now());
        let mm = m.clone();
        let response = idempotency::run(&self.db, &m, fp, move |tx| {
            Box::pin(async move {
                let key = rotation::rotate(tx, mm.now).await?;
                let entry = AuditEntry {
                    resource_id: key.kid.clone(),
                    reason: Some(reason),
                    after: Some(rotation::audit_summary(&key)),
                    ..AuditEntry::default()
                };
                audit::record(tx, &mm, entry).await?;
                Ok::<_, GatewayError>(pb::RotateSigningKeyResponse {
                    signing_key: Some(rotation::to_proto(&key)),
                })
            })
        })
        .await?;
        self.reload().await?;
        Ok(Response::new(response))
    }

    async fn retire_signing_key(
        &self,
        req: Request<pb::RetireSigningKeyRequest>,
    ) -> Result<Response<pb::RetireSigningKeyResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let fp = fingerprint(&self.fingerprints, req.get_ref());
        let pb::RetireSigningKeyRequest {
            request_id,
            kid,
            reason,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        v.check(!kid.is_empty() && kid.len() <= 64, "kid", "1-64 characters");
        let reason = v.take("reason", validate::text(&reason, 0, 512));
        let (request_id, reason) = v.finish_with(request_id.zip(reason))?;
        principal.require(perm::PLATFORM_SIGNING_KEYS_MANAGE)?;
        let m = Mutation::new(principal, RETIRE, request_id, self.clock.now());
        let mm = m.clone();
        let response = idempotency::run(&self.db, &m, fp, move |tx| {
            Box::pin(async move {
                let (before, after) = rotation::retire(tx, &kid, mm.now).await?;
                let entry = AuditEntry {
                    resource_id: kid.clone(),
                    reason: Some(reason),
                    before: Some(rotation::audit_summary(&before)),
                    after: Some(rotation::audit_summary(&after)),
                    ..AuditEntry::default()
                };
                audit::record(tx, &mm, entry).await?;
                Ok::<_, GatewayError>(pb::RetireSigningKeyResponse {
                    signing_key: Some(rotation::to_proto(&after)),
                })
            })
        })
        .await?;
        self.reload().await?;
        Ok(Response::new(response))
    }
}
