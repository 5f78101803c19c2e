//! Registering, reading, changing (certificate rollover) and removing a
//! partner's identity providers.

pub mod model;
pub mod service_urls;
pub mod store;

use chrono::Duration;
use partner_accounts::Accounts;
use partner_api::iam::v1 as pb;
use partner_customers::CustomersError;
use partner_kernel::ids::IdentityProviderId;
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{DbErr, SqlErr};

pub use model::{Certificate, FirstLoginPolicy, IdentityProvider};

use crate::access as perm;
use crate::error::FederationError;
use crate::saml::metadata::IdpMetadata;
use crate::service::Federation;

/// An IdP to register, after parsing.
#[derive(Debug)]
pub struct NewIdp {
    pub xaccount_type: String,
    pub metadata: IdpMetadata,
    pub xaccount_attribute: String,
    pub first_login_policy: FirstLoginPolicy,
    pub require_signed_assertions: bool,
    /// Normalised by [`service_urls::parse_entries`].
    pub service_urls: Vec<String>,
    /// Where the notification endpoint posts; `None`: no endpoint.
    pub notification_url: Option<String>,
}

/// The changes of an update, after parsing; `None` leaves a setting as is.
#[derive(Debug, Default)]
pub struct IdpChanges {
    pub metadata: Option<IdpMetadata>,
    /// How long replaced certificates stay accepted.
    pub rollover_overlap: Duration,
    pub xaccount_attribute: Option<String>,
    pub first_login_policy: Option<FirstLoginPolicy>,
    pub require_signed_assertions: Option<bool>,
    pub service_urls: Option<Vec<String>>,
    /// `Some(None)` removes the notification endpoint.
    pub notification_url: Option<Option<String>>,
}

/// A unique index refused the row: the sales-platform id has an IdP, or the
/// entity id is registered (the indexes decide, concurrent requests too).
fn taken(e: DbErr) -> FederationError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => FederationError::IdpAlreadyRegistered,
        _ => e.into(),
    }
}

impl Federation {
    /// Registers an IdP of the caller's partner for one of its sales-platform ids.
    pub async fn register_idp(
        &self,
        m: Mutation,
        cmd: NewIdp,
    ) -> Result<pb::RegisterIdentityProviderResponse, FederationError> {
        let partner = m.principal.require_partner(perm::FEDERATION_MANAGE)?;
        may_set_policy(&m, cmd.first_login_policy)?;
        let now = m.now;
        let idp = IdentityProvider {
            id: IdentityProviderId::generate().to_string(),
            partner_id: partner,
            xaccount_type: cmd.xaccount_type,
            entity_id: cmd.metadata.entity_id,
            sso_url: cmd.metadata.sso_url,
            xaccount_attribute: cmd.xaccount_attribute,
            first_login_policy: cmd.first_login_policy,
            require_signed_assertions: cmd.require_signed_assertions,
            certificates: cmd
                .metadata
                .certificates
                .iter()
                .map(|der| Certificate::of_der(der))
                .collect(),
            service_urls: cmd.service_urls,
            created_at: now,
            updated_at: now,
        };
        let (webhooks, secret) = (self.webhooks.clone(), NewSecret::default());
        let caller = m.principal.clone();
        let made = secret.clone();
        let mut response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                if !Accounts::owns_sales_platform(tx, partner, &idp.xaccount_type).await? {
                    return Err(CustomersError::SalesPlatformNotFound.into());
                }
                store::insert(tx, &idp).await.map_err(taken)?;
                let change = Change::of(Some(partner), &idp.id)
                    .after(idp.audit_summary())
                    .announce("federation.idp_registered");
                let notification = webhooks
                    .set_idp_endpoint(tx, (&caller, partner), &idp.id, cmd.notification_url, now)
                    .await?;
                let mut proto = idp.to_proto(now);
                proto.notification_endpoint_id = webhooks
                    .idp_endpoint_id(tx, &idp.id)
                    .await?
                    .unwrap_or_default();
                let response = pb::RegisterIdentityProviderResponse {
                    identity_provider: Some(proto),
                    notification_secret: String::new(),
                };
                Ok::<_, FederationError>(made.noting(Outcome::new(response, change), notification))
            })
        })
        .await?;
        response.notification_secret = secret.take();
        Ok(response)
    }

    /// One IdP of the caller's partner.
    pub async fn get_idp(
        &self,
        p: &Principal,
        id: &str,
    ) -> Result<pb::IdentityProvider, FederationError> {
        let partner = p.require_partner(perm::FEDERATION_READ)?;
        let row = store::of_partner(self.db.conn(), partner, id)
            .await?
            .ok_or(FederationError::IdpNotFound)?;
        self.idp_to_proto(IdentityProvider::of_row(row)?).await
    }

    /// The caller's partner's IdPs.
    pub async fn list_idps(
        &self,
        p: &Principal,
    ) -> Result<Vec<pb::IdentityProvider>, FederationError> {
        let partner = p.require_partner(perm::FEDERATION_READ)?;
        let mut out = Vec::new();
        for row in store::list_of_partner(self.db.conn(), partner).await? {
            out.push(self.idp_to_proto(IdentityProvider::of_row(row)?).await?);
        }
        Ok(out)
    }

    /// An IdP as the API shows it, with its notification endpoint.
    async fn idp_to_proto(
        &self,
        idp: IdentityProvider,
    ) -> Result<pb::IdentityProvider, FederationError> {
        let mut proto = idp.to_proto(self.clock.now());
        proto.notification_endpoint_id = self
            .webhooks
            .idp_endpoint_id(self.db.conn(), &idp.id)
            .await?
            .unwrap_or_default();
        Ok(proto)
    }

    /// Changes an IdP's settings; new metadata replaces its certificates,
    /// the old ones kept for `rollover_overlap`.
    pub async fn update_idp(
        &self,
        m: Mutation,
        id: String,
        changes: IdpChanges,
    ) -> Result<pb::UpdateIdentityProviderResponse, FederationError> {
        let partner = m.principal.require_partner(perm::FEDERATION_MANAGE)?;
        if let Some(policy) = changes.first_login_policy {
            may_set_policy(&m, policy)?;
        }
        let now = m.now;
        let (webhooks, secret) = (self.webhooks.clone(), NewSecret::default());
        let caller = m.principal.clone();
        let made = secret.clone();
        let mut response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = locked(tx, partner, &id).await?;
                let mut after = before.clone();
                if let Some(metadata) = changes.metadata {
                    if metadata.entity_id != before.entity_id {
                        return Err(FederationError::EntityIdChanged);
                    }
                    after.sso_url = metadata.sso_url;
                    after.certificates = rolled_over(
                        &before.certificates,
                        &metadata.certificates,
                        now,
                        changes.rollover_overlap,
                    );
                }
                if let Some(attribute) = changes.xaccount_attribute {
                    after.xaccount_attribute = attribute;
                }
                if let Some(policy) = changes.first_login_policy {
                    after.first_login_policy = policy;
                }
                if let Some(required) = changes.require_signed_assertions {
                    after.require_signed_assertions = required;
                }
                if let Some(urls) = changes.service_urls {
                    after.service_urls = urls;
                }
                after.updated_at = now;
                store::update(tx, &after).await?;
                let change = Change::of(Some(partner), &after.id)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("federation.idp_updated");
                let notification = match changes.notification_url {
                    Some(url) => {
                        webhooks
                            .set_idp_endpoint(tx, (&caller, partner), &id, url, now)
                            .await?
                    }
                    None => None,
                };
                let mut proto = after.to_proto(now);
                proto.notification_endpoint_id =
                    webhooks.idp_endpoint_id(tx, &id).await?.unwrap_or_default();
                let response = pb::UpdateIdentityProviderResponse {
                    identity_provider: Some(proto),
                    notification_secret: String::new(),
                };
                Ok::<_, FederationError>(made.noting(Outcome::new(response, change), notification))
            })
        })
        .await?;
        response.notification_secret = secret.take();
        Ok(response)
    }

    /// Removes an IdP; its responses are refused from then on.
    pub async fn delete_idp(
        &self,
        m: Mutation,
        id: String,
    ) -> Result<pb::DeleteIdentityProviderResponse, FederationError> {
        let partner = m.principal.require_partner(perm::FEDERATION_MANAGE)?;
        let (webhooks, now) = (self.webhooks.clone(), m.now);
        let caller = m.principal.clone();
        write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = locked(tx, partner, &id).await?;
                store::delete(tx, &id).await?;
                let change = Change::of(Some(partner), &id)
                    .before(before.audit_summary())
                    .announce("federation.idp_deleted");
                let outcome = Outcome::new(pb::DeleteIdentityProviderResponse {}, change);
                // The IdP's notification endpoint goes with it.
                Ok(
                    match webhooks
                        .set_idp_endpoint(tx, (&caller, partner), &id, None, now)
                        .await?
                    {
                        Some((removed, _)) => outcome.and(removed),
                        None => outcome,
                    },
                )
            })
        })
        .await
    }
}

/// The secret of a notification endpoint made by a write, kept out of the
/// stored answer: only the run that made it hands it out.
#[derive(Debug, Clone, Default)]
struct NewSecret(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl NewSecret {
    /// Adds the endpoint's change to `outcome` and keeps its new secret.
    fn noting<R>(
        &self,
        outcome: Outcome<R>,
        notification: Option<(Change, Option<String>)>,
    ) -> Outcome<R> {
        let Some((change, secret)) = notification else {
            return outcome;
        };
        if let Some(secret) = secret {
            *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(secret);
        }
        outcome.and(change)
    }

    fn take(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default()
    }
}

/// BIND_EXISTING lets the IdP sign in as any customer of the partner that
/// has no account on its sales platform: only who may act as the partner's
/// customers (`customers.assume`) may turn it on.
fn may_set_policy(m: &Mutation, policy: FirstLoginPolicy) -> Result<(), FederationError> {
    match policy {
        FirstLoginPolicy::BindExisting => {
            m.principal
                .require(partner_gateway::access::CUSTOMERS_ASSUME)?;
            Ok(())
        }
        FirstLoginPolicy::CreateCustomer | FirstLoginPolicy::Refuse => Ok(()),
    }
}

/// One IdP of `partner`, locked for a change.
async fn locked(
    tx: &sea_orm::DatabaseTransaction,
    partner: partner_kernel::ids::PartnerId,
    id: &str,
) -> Result<IdentityProvider, FederationError> {
    let row = store::of_partner_for_update(tx, partner, id)
        .await?
        .ok_or(FederationError::IdpNotFound)?;
    Ok(IdentityProvider::of_row(row)?)
}

/// The certificates after new metadata: the new ones without an end; the
/// replaced ones until `now + overlap` (or an earlier end they had); those
/// already past their end are dropped.
fn rolled_over(
    current: &[Certificate],
    new: &[Vec<u8>],
    now: chrono::DateTime<chrono::Utc>,
    overlap: Duration,
) -> Vec<Certificate> {
    let mut out: Vec<Certificate> = new.iter().map(|der| Certificate::of_der(der)).collect();
    if overlap > Duration::zero() {
        let end = now + overlap;
        for old in current {
            if out.iter().any(|c| c.sha256 == old.sha256) || !old.accepted_at(now) {
                continue;
            }
            out.push(Certificate {
                retire_at: Some(old.retire_at.map_or(end, |at| at.min(end))),
                ..old.clone()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollover_keeps_old_certificates_for_the_overlap_only() {
        let now = chrono::Utc::now();
        let old = vec![Certificate::of_der(b"old")];
        let kept = rolled_over(&old, &[b"new".to_vec()], now, Duration::hours(1));
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].retire_at, None);
        assert_eq!(kept[1].retire_at, Some(now + Duration::hours(1)));
        assert!(rolled_over(&old, &[b"new".to_vec()], now, Duration::zero()).len() == 1);
        // Re-listing a certificate keeps it without an end.
        let same = rolled_over(&kept, &[b"old".to_vec()], now, Duration::hours(1));
        assert_eq!(same.len(), 2);
        assert_eq!(same[0].retire_at, None);
    }
}
