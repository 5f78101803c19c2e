//! Creating, reading, changing and removing endpoints; an identity
//! provider's notification endpoint is made and removed with it, inside the
//! federation domain's transaction.

use partner_api::events::v1 as pb;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{PartnerId, WebhookEndpointId};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::seal::Sealer;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::ConnectionTrait;

use super::entity::endpoint;
use super::model::{endpoint_summary, endpoint_to_proto};
use super::signature::new_secret;
use super::{WebhookError, Webhooks, store};
use crate::access::{WEBHOOKS_MANAGE, WEBHOOKS_READ};

/// Endpoints one partner may have (its IdPs' included).
pub const MAX_ENDPOINTS_PER_PARTNER: u64 = 20;

/// The event types an identity provider's notification endpoint receives:
/// the association events of first sign-ins.
pub const IDP_EVENT_TYPES: &[&str] = &["customer.created", "customer.xaccount_bound"];

/// An endpoint to create, after parsing.
#[derive(Debug)]
pub struct NewEndpoint {
    /// Normalised by [`super::TargetPolicy::check_url`].
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

/// The changes of an update; `None` leaves a setting as is.
#[derive(Debug, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

fn json(list: &[impl AsRef<str>]) -> String {
    serde_json::Value::from(list.iter().map(|s| s.as_ref()).collect::<Vec<_>>()).to_string()
}

fn sealing_context(id: &str) -> String {
    format!("webhook_endpoints.secret:{id}")
}

/// A new endpoint's id and secret.
fn new_identity() -> Result<(String, String), KernelError> {
    Ok((WebhookEndpointId::generate().to_string(), new_secret()?))
}

/// An endpoint row, starting after every event so far.
async fn new_row(
    conn: &impl ConnectionTrait,
    sealer: &Sealer,
    (id, secret): (String, &str),
    partner: PartnerId,
    now: chrono::DateTime<chrono::Utc>,
    cmd: NewEndpoint,
    readable: &[&str],
) -> Result<endpoint::Model, WebhookError> {
    let row = endpoint::Model {
        secret: sealer.seal(secret.as_bytes(), &sealing_context(&id))?,
        previous_secret: None,
        previous_secret_expires_at: None,
        id,
        partner_id: partner.to_string(),
        identity_provider_id: None,
        url: cmd.url,
        description: cmd.description,
        event_types: json(&cmd.event_types),
        readable: json(readable),
        disabled: false,
        cursor: store::last_position(conn).await?,
        next_position: 1,
        lease_owner: None,
        leased_until: None,
        created_at: now,
        updated_at: now,
    };
    Ok(row)
}

/// Refuses event types outside what `readable` lets the caller read.
fn check_types(types: &[String], readable: &[&str]) -> Result<(), KernelError> {
    let unreadable: Vec<FieldViolation> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| !readable.iter().any(|p| t.starts_with(p)))
        .map(|(i, t)| {
            FieldViolation::new(
                format!("event_types[{i}]"),
                format!("`{t:.64}` is not an event type you may read"),
            )
        })
        .collect();
    if unreadable.is_empty() {
        Ok(())
    } else {
        Err(KernelError::Invalid(unreadable))
    }
}

/// Locks the partner's endpoint count until the transaction ends and
/// refuses one more beyond the limit.
async fn check_room(conn: &impl ConnectionTrait, partner: PartnerId) -> Result<(), WebhookError> {
    partner_kernel::db::lock_key(conn, &format!("webhook_endpoints:{partner}")).await?;
    if store::count_of_partner(conn, partner).await? >= MAX_ENDPOINTS_PER_PARTNER {
        return Err(WebhookError::EndpointLimit {
            limit: MAX_ENDPOINTS_PER_PARTNER,
        });
    }
    Ok(())
}

impl Webhooks {
    /// Creates an endpoint of the caller's partner; the secret is in the
    /// first answer only.
    pub async fn create(
        &self,
        m: Mutation,
        cmd: NewEndpoint,
    ) -> Result<pb::CreateWebhookEndpointResponse, WebhookError> {
        let partner = m.principal.require_partner(WEBHOOKS_MANAGE)?;
        let readable = self
            .access
            .readable_event_prefixes(&m.principal.permissions);
        check_types(&cmd.event_types, &readable)?;
        let (now, sealer) = (m.now, self.sealer.clone());
        let (id, secret) = new_identity()?;
        let identity = (id.clone(), secret.clone());
        let mut response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                check_room(tx, partner).await?;
                let identity = (identity.0, identity.1.as_str());
                let row = new_row(tx, &sealer, identity, partner, now, cmd, &readable).await?;
                store::insert_endpoint(tx, row.clone()).await?;
                let change = Change::of(Some(partner), &row.id).after(endpoint_summary(&row));
                let response = pb::CreateWebhookEndpointResponse {
                    endpoint: Some(endpoint_to_proto(&row)?),
                    secret: String::new(),
                };
                Ok::<_, WebhookError>(Outcome::new(response, change))
            })
        })
        .await?;
        // Only the run that created this endpoint holds its secret; a replay
        // returns the stored answer, whose id is not the one made here.
        if response.endpoint.as_ref().is_some_and(|e| e.id == id) {
            response.secret = secret;
        }
        Ok(response)
    }

    /// One endpoint of the caller's partner.
    pub async fn get(&self, p: &Principal, id: &str) -> Result<pb::WebhookEndpoint, WebhookError> {
        let partner = p.require_partner(WEBHOOKS_READ)?;
        let row = store::endpoint_of(self.db.conn(), partner, id)
            .await?
            .ok_or(WebhookError::EndpointNotFound)?;
        Ok(endpoint_to_proto(&row)?)
    }

    /// The caller's partner's endpoints, oldest first.
    pub async fn list(&self, p: &Principal) -> Result<Vec<pb::WebhookEndpoint>, WebhookError> {
        let partner = p.require_partner(WEBHOOKS_READ)?;
        store::endpoints_of_partner(self.db.conn(), partner)
            .await?
            .iter()
            .map(|row| endpoint_to_proto(row).map_err(WebhookError::from))
            .collect()
    }

    /// Changes an endpoint's settings. New event types are checked against
    /// what the caller may read, and the endpoint then receives what the
    /// caller may read.
    pub async fn update(
        &self,
        m: Mutation,
        id: String,
        changes: EndpointChanges,
    ) -> Result<pb::UpdateWebhookEndpointResponse, WebhookError> {
        let partner = m.principal.require_partner(WEBHOOKS_MANAGE)?;
        let readable = self
            .access
            .readable_event_prefixes(&m.principal.permissions);
        if let Some(types) = &changes.event_types {
            check_types(types, &readable)?;
        }
        let now = m.now;
        write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = store::endpoint_of(tx, partner, &id)
                    .await?
                    .ok_or(WebhookError::EndpointNotFound)?;
                let mut after = before.clone();
                if let Some(url) = changes.url {
                    after.url = url;
                }
                if let Some(description) = changes.description {
                    after.description = description;
                }
                if let Some(types) = changes.event_types {
                    after.event_types = json(&types);
                    after.readable = json(&readable);
                }
                if let Some(disabled) = changes.disabled {
                    after.disabled = disabled;
                }
                after.updated_at = now;
                store::save_settings(tx, &after).await?;
                let change = Change::of(Some(partner), &after.id)
                    .before(endpoint_summary(&before))
                    .after(endpoint_summary(&after));
                let response = pb::UpdateWebhookEndpointResponse {
                    endpoint: Some(endpoint_to_proto(&after)?),
                };
                Ok::<_, WebhookError>(Outcome::new(response, change))
            })
        })
        .await
    }

    /// Replaces an endpoint's secret. The one replaced keeps signing beside
    /// the new one for `overlap` (not at all for zero); one already being
    /// rotated out stops. The new secret is in the first answer only.
    pub async fn rotate_secret(
        &self,
        m: Mutation,
        id: String,
        overlap: chrono::Duration,
    ) -> Result<pb::RotateWebhookSecretResponse, WebhookError> {
        let partner = m.principal.require_partner(WEBHOOKS_MANAGE)?;
        let (now, sealer) = (m.now, self.sealer.clone());
        let secret = new_secret()?;
        let fresh = secret.clone();
        // Set by the effect, which runs only in the call that rotates (a
        // replay answers from the stored response without running it).
        let rotated_here = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ran = rotated_here.clone();
        let mut response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                ran.store(true, std::sync::atomic::Ordering::Relaxed);
                let before = store::endpoint_of_for_update(tx, partner, &id)
                    .await?
                    .ok_or(WebhookError::EndpointNotFound)?;
                let mut after = before.clone();
                after.secret = sealer.seal(fresh.as_bytes(), &sealing_context(&after.id))?;
                (after.previous_secret, after.previous_secret_expires_at) =
                    if overlap > chrono::Duration::zero() {
                        (Some(before.secret.clone()), Some(now + overlap))
                    } else {
                        (None, None)
                    };
                after.updated_at = now;
                store::save_secrets(tx, &after).await?;
                let change = Change::of(Some(partner), &after.id)
                    .reason("secret rotated".to_owned())
                    .before(endpoint_summary(&before))
                    .after(endpoint_summary(&after));
                let response = pb::RotateWebhookSecretResponse {
                    endpoint: Some(endpoint_to_proto(&after)?),
                    secret: String::new(),
                };
                Ok::<_, WebhookError>(Outcome::new(response, change))
            })
        })
        .await?;
        // Only the run that rotated holds the secret (an effect that ran and
        // did not commit is an error, not an answer).
        if rotated_here.load(std::sync::atomic::Ordering::Relaxed) {
            response.secret = secret;
        }
        Ok(response)
    }

    /// The secrets signing a delivery to `row` at `now`: the current one,
    /// and the one rotated out until it expires.
    pub(crate) fn signing_secrets(
        &self,
        row: &endpoint::Model,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, KernelError> {
        let mut secrets = vec![self.secret_of(row)?];
        if let (Some(previous), Some(until)) =
            (&row.previous_secret, row.previous_secret_expires_at)
            && until > now
        {
            let plain = self.sealer.open(previous, &sealing_context(&row.id))?;
            secrets.push(String::from_utf8(plain).map_err(|_| {
                KernelError::Corrupt(format!("webhook secret of {} is not text", row.id))
            })?);
        }
        Ok(secrets)
    }

    /// Removes an endpoint and its deliveries.
    pub async fn delete(
        &self,
        m: Mutation,
        id: String,
    ) -> Result<pb::DeleteWebhookEndpointResponse, WebhookError> {
        let partner = m.principal.require_partner(WEBHOOKS_MANAGE)?;
        write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = store::endpoint_of(tx, partner, &id)
                    .await?
                    .ok_or(WebhookError::EndpointNotFound)?;
                store::delete_endpoint(tx, &before.id).await?;
                let change =
                    Change::of(Some(partner), &before.id).before(endpoint_summary(&before));
                Ok::<_, WebhookError>(Outcome::new(pb::DeleteWebhookEndpointResponse {}, change))
            })
        })
        .await
    }

    /// Inside `conn`'s transaction: sets identity provider `idp`'s
    /// notification endpoint to `url` for `caller`, creating it when there
    /// is none (returning, then, its secret) and removing it for `None`.
    /// Setting a URL takes what creating an endpoint for its event types
    /// takes. The change for the audit log is returned with it.
    pub async fn set_idp_endpoint(
        &self,
        conn: &impl ConnectionTrait,
        (caller, partner): (&Principal, PartnerId),
        idp: &str,
        url: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(Change, Option<String>)>, WebhookError> {
        // Removing it goes with removing the IdP, which its own permission gates.
        if url.is_some() {
            caller.require(WEBHOOKS_MANAGE)?;
            let types: Vec<String> = IDP_EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
            check_types(
                &types,
                &self.access.readable_event_prefixes(&caller.permissions),
            )?;
        }
        let existing = store::endpoint_of_idp(conn, idp).await?;
        match (existing, url) {
            (None, None) => Ok(None),
            (Some(before), None) => {
                store::delete_endpoint(conn, &before.id).await?;
                let change =
                    Change::of(Some(partner), &before.id).before(endpoint_summary(&before));
                Ok(Some((change, None)))
            }
            (Some(before), Some(url)) => {
                let mut after = before.clone();
                after.url = url;
                after.updated_at = now;
                store::save_settings(conn, &after).await?;
                let change = Change::of(Some(partner), &after.id)
                    .before(endpoint_summary(&before))
                    .after(endpoint_summary(&after));
                Ok(Some((change, None)))
            }
            (None, Some(url)) => {
                check_room(conn, partner).await?;
                let cmd = NewEndpoint {
                    url,
                    description: format!("Notifications of identity provider {idp}"),
                    event_types: IDP_EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
                };
                let (id, secret) = new_identity()?;
                let mut row = new_row(
                    conn,
                    &self.sealer,
                    (id, &secret),
                    partner,
                    now,
                    cmd,
                    &["customer."],
                )
                .await?;
                row.identity_provider_id = Some(idp.to_owned());
                store::insert_endpoint(conn, row.clone()).await?;
                let change = Change::of(Some(partner), &row.id).after(endpoint_summary(&row));
                Ok(Some((change, Some(secret))))
            }
        }
    }

    /// The id of identity provider `idp`'s notification endpoint.
    pub async fn idp_endpoint_id(
        &self,
        conn: &impl ConnectionTrait,
        idp: &str,
    ) -> Result<Option<String>, WebhookError> {
        Ok(store::endpoint_of_idp(conn, idp).await?.map(|e| e.id))
    }

    /// Seals the secrets stored plain (written before a master key was
    /// configured), the one being rotated out included.
    pub async fn seal_plain_secrets(&self) -> Result<u64, WebhookError> {
        if !self.sealer.enabled() {
            return Ok(0);
        }
        let mut sealed = 0;
        for mut row in store::plain_secrets(self.db.conn()).await? {
            let context = sealing_context(&row.id);
            if !Sealer::is_sealed(&row.secret) {
                row.secret = self.sealer.seal(&row.secret, &context)?;
            }
            if let Some(previous) = row.previous_secret.as_mut()
                && !Sealer::is_sealed(previous)
            {
                *previous = self.sealer.seal(previous, &context)?;
            }
            store::save_secrets(self.db.conn(), &row).await?;
            sealed += 1;
        }
        Ok(sealed)
    }

    /// The plain secret of `row`.
    pub(crate) fn secret_of(&self, row: &endpoint::Model) -> Result<String, KernelError> {
        let plain = self.sealer.open(&row.secret, &sealing_context(&row.id))?;
        String::from_utf8(plain)
            .map_err(|_| KernelError::Corrupt(format!("webhook secret of {} is not text", row.id)))
    }
}
