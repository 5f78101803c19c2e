//! Access keys (AK/SK) of partners' systems: create (the secret is shown
//! once), list, disable, delete. A key belongs to one user of one partner and
//! is exchanged for that user's access token (`Gateway::exchange_access_key`).
//! Disabling or deleting a key revokes its sessions in the same transaction.

pub mod store;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use partner_accounts::model::UserState;
use partner_accounts::{Accounts, AccountsError};
use partner_api::iam::v1 as pb;
use partner_kernel::clock::{SharedClock, to_proto_timestamp};
use partner_kernel::db::Db;
use partner_kernel::ids::{AccessKeyId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope, PageTokens};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::access as perm;
use crate::entity::access_key;
use crate::error::GatewayError;
use crate::sessions::{Sessions, revoke_for_access_key};

/// Keys one user may hold, in any state (decision in `docs/decisions.md`).
pub const MAX_KEYS_PER_USER: u64 = 5;
/// Secrets start with this, so a leaked one is recognisable in logs and scanners.
pub const SECRET_PREFIX: &str = "prt_sk_";

pub(crate) const ACTIVE: &str = "ACTIVE";
pub(crate) const DISABLED: &str = "DISABLED";

/// A new secret: 32 random bytes, base64url, behind [`SECRET_PREFIX`].
pub fn new_secret() -> Result<String, GatewayError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| GatewayError::Keys(format!("no randomness: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a secret. A plain SHA-256 suffices, unlike for
/// passwords: the secret carries 256 random bits, so no dictionary or GPU
/// search over its hash is feasible, and a slow KDF (19 MiB and ~15 ms of a
/// core per Argon2 call) would only make every exchange expensive.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether `presented` is the secret behind `stored`, in constant time so the
/// comparison leaks nothing about how much of a guess was right.
pub fn secret_matches(stored: &[u8], presented: &str) -> bool {
    bool::from(stored.ct_eq(&hash_secret(presented)))
}

/// The wire form (never the secret or its hash).
pub fn to_proto(m: &access_key::Model) -> pb::AccessKey {
    let state = match m.state.as_str() {
        ACTIVE => pb::AccessKeyState::Active,
        DISABLED => pb::AccessKeyState::Disabled,
        _ => pb::AccessKeyState::Unspecified,
    };
    pb::AccessKey {
        access_key_id: m.id.clone(),
        user_id: m.user_id.clone(),
        partner_id: m.partner_id.clone(),
        description: m.description.clone(),
        state: state.into(),
        create_time: Some(to_proto_timestamp(m.created_at)),
        last_used_time: m.last_used_at.map(to_proto_timestamp),
    }
}

fn audit_summary(m: &access_key::Model) -> serde_json::Value {
    serde_json::json!({ "access_key_id": m.id, "user_id": m.user_id, "state": m.state })
}

fn state_name(stored: &str) -> &'static str {
    match stored {
        ACTIVE => "ACTIVE",
        DISABLED => "DISABLED",
        _ => "UNKNOWN",
    }
}

/// A key to create.
#[derive(Debug)]
pub struct NewAccessKey {
    /// The key's user; `None` for the caller.
    pub user_id: Option<UserId>,
    pub description: String,
}

/// The access-key verbs.
#[derive(Debug, Clone)]
pub struct AccessKeys {
    db: Db,
    accounts: Accounts,
    sessions: Arc<Sessions>,
    clock: SharedClock,
    pages: PageTokens,
}

impl AccessKeys {
    /// The verbs over `db`; `sessions` is the gateway's, whose cache a revocation clears.
    pub(crate) fn new(
        db: Db,
        accounts: Accounts,
        sessions: Arc<Sessions>,
        clock: SharedClock,
        pages: PageTokens,
    ) -> Self {
        Self {
            db,
            accounts,
            sessions,
            clock,
            pages,
        }
    }

    /// The platform clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Creates a key for an active user of the caller's partner. The secret is
    /// in the first answer only: the stored idempotent response lacks it, so a
    /// replay returns the key without it.
    pub async fn create(
        &self,
        m: Mutation,
        cmd: NewAccessKey,
    ) -> Result<pb::CreateAccessKeyResponse, GatewayError> {
        let partner_id = m.principal.require_partner(perm::ACCESS_KEYS_CREATE)?;
        let user_id = cmd.user_id.unwrap_or(m.principal.user_id);
        let id = AccessKeyId::generate();
        let secret = new_secret()?;
        let secret_hash = hash_secret(&secret);
        let accounts = self.accounts.clone();
        let now = m.now;
        let mut response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                // Locked, so two concurrent creations cannot both pass the cap.
                let user = accounts
                    .user_in_partner(tx, partner_id, user_id, true)
                    .await?;
                if user.state != UserState::Active {
                    return Err(AccountsError::UserStateConflict {
                        state: user.state.as_str(),
                    }
                    .into());
                }
                if store::count_of_user(tx, partner_id, user_id).await? >= MAX_KEYS_PER_USER {
                    return Err(GatewayError::AccessKeyLimitReached {
                        limit: MAX_KEYS_PER_USER,
                    });
                }
                let row = access_key::ActiveModel {
                    id: Set(id.to_string()),
                    partner_id: Set(partner_id.to_string()),
                    user_id: Set(user_id.to_string()),
                    description: Set(cmd.description),
                    secret_hash: Set(secret_hash),
                    state: Set(ACTIVE.to_owned()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    last_used_at: Set(None),
                }
                .insert(tx)
                .await?;
                let change = Change::of(Some(partner_id), &row.id)
                    .after(audit_summary(&row))
                    .announce("access_key.created");
                let response = pb::CreateAccessKeyResponse {
                    access_key: Some(to_proto(&row)),
                    secret: String::new(),
                };
                Ok::<_, GatewayError>(Outcome::new(response, change))
            })
        })
        .await?;
        // Only the run that created this id holds its secret; a replay returns
        // the stored key, whose id differs from the one generated here.
        let created_now = response
            .access_key
            .as_ref()
            .is_some_and(|k| k.access_key_id == id.to_string());
        if created_now {
            response.secret = secret;
        }
        Ok(response)
    }

    /// Lists the keys of the caller's partner, optionally of one of its users.
    pub async fn list(
        &self,
        p: &Principal,
        user: Option<UserId>,
        size: u64,
        token: &str,
    ) -> Result<Page<access_key::Model>, GatewayError> {
        let partner_id = p.require_partner(perm::ACCESS_KEYS_READ)?;
        if let Some(user) = user {
            // Another partner's user is NOT_FOUND, not an empty list.
            self.accounts
                .user_in_partner(self.db.conn(), partner_id, user, false)
                .await?;
        }
        let scope = PageScope::new("ListAccessKeys", &partner_id.to_string())
            .filter("user", user.map(|u| u.to_string()).unwrap_or_default());
        let now = self.clock.now();
        let after = self.pages.decode(&scope, token, now)?;
        let keys =
            store::list(self.db.conn(), partner_id, user, after.as_deref(), size + 1).await?;
        Ok(self.pages.cut(keys, size, &scope, now, |k| k.id.clone()))
    }

    /// Disables an active key and revokes its sessions, in one transaction.
    pub async fn disable(
        &self,
        m: Mutation,
        id: AccessKeyId,
        reason: String,
    ) -> Result<pb::DisableAccessKeyResponse, GatewayError> {
        let partner_id = m.principal.require_partner(perm::ACCESS_KEYS_DISABLE)?;
        let now = m.now;
        let response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = store::key_in_partner(tx, partner_id, id)
                    .await?
                    .ok_or(GatewayError::AccessKeyNotFound)?;
                if before.state != ACTIVE {
                    return Err(GatewayError::AccessKeyStateConflict {
                        state: state_name(&before.state),
                    });
                }
                // Conditional, so two concurrent disables cannot both succeed.
                let changed = access_key::Entity::update_many()
                    .col_expr(access_key::Column::State, Expr::value(DISABLED))
                    .col_expr(access_key::Column::UpdatedAt, Expr::value(now))
                    .filter(access_key::Column::Id.eq(id.to_string()))
                    .filter(access_key::Column::State.eq(ACTIVE))
                    .exec(tx)
                    .await?
                    .rows_affected;
                if changed != 1 {
                    return Err(GatewayError::AccessKeyStateConflict { state: "DISABLED" });
                }
                revoke_for_access_key(tx, id, now).await?;
                let after = access_key::Model {
                    state: DISABLED.to_owned(),
                    updated_at: now,
                    ..before.clone()
                };
                let change = Change::of(Some(partner_id), id)
                    .reason(reason)
                    .before(audit_summary(&before))
                    .after(audit_summary(&after))
                    .announce("access_key.disabled");
                let response = pb::DisableAccessKeyResponse {
                    access_key: Some(to_proto(&after)),
                };
                Ok::<_, GatewayError>(Outcome::new(response, change))
            })
        })
        .await;
        // Tokens of the key are refused from the next call on in this process.
        self.sessions.forget_cached();
        response
    }

    /// Deletes a key in any state and revokes its sessions, in one transaction.
    pub async fn delete(
        &self,
        m: Mutation,
        id: AccessKeyId,
        reason: String,
    ) -> Result<pb::DeleteAccessKeyResponse, GatewayError> {
        let partner_id = m.principal.require_partner(perm::ACCESS_KEYS_DELETE)?;
        let now = m.now;
        let response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = store::key_in_partner(tx, partner_id, id)
                    .await?
                    .ok_or(GatewayError::AccessKeyNotFound)?;
                let deleted = access_key::Entity::delete_many()
                    .filter(access_key::Column::Id.eq(id.to_string()))
                    .filter(access_key::Column::PartnerId.eq(partner_id.to_string()))
                    .exec(tx)
                    .await?
                    .rows_affected;
                if deleted != 1 {
                    return Err(GatewayError::AccessKeyNotFound);
                }
                revoke_for_access_key(tx, id, now).await?;
                let change = Change::of(Some(partner_id), id)
                    .reason(reason)
                    .before(audit_summary(&before))
                    .announce("access_key.deleted");
                Ok::<_, GatewayError>(Outcome::new(pb::DeleteAccessKeyResponse {}, change))
            })
        })
        .await;
        self.sessions.forget_cached();
        response
    }
}
