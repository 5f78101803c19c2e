//! Access keys (AK/SK) of partners' systems: create (the secret is shown
//! once), list, disable, delete. A key belongs to one user of one partner and
//! is exchanged for that user's access token (`Gateway::exchange_access_key`).
//! Disabling or deleting a key revokes its sessions in the same transaction.
//! Acting on another user's keys follows the accounts rule: the caller must
//! hold every permission of the key's user, and only the master acts on the
//! master's keys (`TARGET_OUTRANKS_CALLER`).

pub mod model;
pub mod store;

pub use model::{AccessKey, KeyState};

use std::sync::Arc;

use partner_accounts::users::UserState;
use partner_accounts::{Accounts, AccountsError};
use partner_api::iam::v1 as pb;
use partner_kernel::bearer;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::ids::{AccessKeyId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope, PageTokens};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use subtle::ConstantTimeEq;

use crate::access as perm;
use crate::error::GatewayError;
use crate::sessions::{Sessions, revoke_for_access_key};

/// Keys one user may hold, in any state (decision in `docs/decisions.md`).
pub const MAX_KEYS_PER_USER: u64 = 5;
/// Secrets start with this, so a leaked one is recognisable in logs and scanners.
pub const SECRET_PREFIX: &str = "prt_sk_";

/// A new secret: 32 random bytes, base64url, behind [`SECRET_PREFIX`].
pub fn new_secret() -> Result<String, GatewayError> {
    Ok(bearer::new_token(SECRET_PREFIX)?)
}

/// The stored form of a secret. A plain SHA-256 suffices, unlike for
/// passwords: the secret carries 256 random bits, so no dictionary or GPU
/// search over its hash is feasible, and a slow KDF (19 MiB and ~15 ms of a
/// core per Argon2 call) would only make every exchange expensive.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    bearer::token_sha256(secret)
}

/// Whether `presented` is the secret behind `stored`, in constant time so the
/// comparison leaks nothing about how much of a guess was right.
pub fn secret_matches(stored: &[u8], presented: &str) -> bool {
    bool::from(stored.ct_eq(&hash_secret(presented)))
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

    /// Creates a key for an active user of the caller's partner whom the
    /// caller may act on. The secret is in the first answer only: the stored
    /// idempotent response lacks it, so a replay returns the key without it.
    pub async fn create(
        &self,
        m: Mutation,
        cmd: NewAccessKey,
    ) -> Result<pb::CreateAccessKeyResponse, GatewayError> {
        let partner_id = m.principal.require_partner(perm::ACCESS_KEYS_CREATE)?;
        let user_id = match cmd.user_id {
            Some(u) => u,
            None => m.principal.user()?,
        };
        let secret = new_secret()?;
        let secret_hash = hash_secret(&secret);
        let key = AccessKey {
            id: AccessKeyId::generate(),
            partner_id,
            user_id,
            description: cmd.description,
            state: KeyState::Active,
            created_at: m.now,
            updated_at: m.now,
            last_used_at: None,
        };
        let id = key.id;
        let (accounts, caller) = (self.accounts.clone(), m.principal.clone());
        let mut response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                // Locked, so two concurrent creations cannot both pass the cap.
                let user = accounts
                    .actable_user(tx, &caller, partner_id, user_id)
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
                store::insert(tx, &key, secret_hash).await?;
                let change = Change::of(Some(partner_id), key.id)
                    .after(key.audit_summary())
                    .announce("access_key.created");
                let response = pb::CreateAccessKeyResponse {
                    access_key: Some(key.to_proto()),
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
    ) -> Result<Page<AccessKey>, GatewayError> {
        let partner_id = p.require_partner(perm::ACCESS_KEYS_READ)?;
        if let Some(user) = user {
            // Another partner's user is NOT_FOUND, not an empty list.
            self.accounts
                .user_in_partner(self.db.conn(), partner_id, user)
                .await?;
        }
        let scope = PageScope::new("ListAccessKeys", &partner_id.to_string())
            .filter("user", user.map(|u| u.to_string()).unwrap_or_default());
        let now = self.clock.now();
        let after = self.pages.decode(&scope, token, now)?;
        let keys =
            store::list(self.db.conn(), partner_id, user, after.as_deref(), size + 1).await?;
        Ok(self
            .pages
            .cut(keys, size, &scope, now, |k| k.id.to_string()))
    }

    /// Disables an active key and revokes its sessions, in one transaction.
    pub async fn disable(
        &self,
        m: Mutation,
        id: AccessKeyId,
        reason: String,
    ) -> Result<pb::DisableAccessKeyResponse, GatewayError> {
        let partner_id = m.principal.require_partner(perm::ACCESS_KEYS_DISABLE)?;
        let (now, accounts, caller) = (m.now, self.accounts.clone(), m.principal.clone());
        let response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = store::key_in_partner(tx, partner_id, id)
                    .await?
                    .ok_or(GatewayError::AccessKeyNotFound)?;
                accounts
                    .actable_user(tx, &caller, partner_id, before.user_id)
                    .await?;
                if before.state != KeyState::Active
                    || !store::disable(tx, partner_id, id, now).await?
                {
                    return Err(GatewayError::AccessKeyStateConflict {
                        state: KeyState::Disabled.as_str(),
                    });
                }
                revoke_for_access_key(tx, partner_id, id, now).await?;
                let after = AccessKey {
                    state: KeyState::Disabled,
                    updated_at: now,
                    ..before.clone()
                };
                let change = Change::of(Some(partner_id), id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("access_key.disabled");
                let response = pb::DisableAccessKeyResponse {
                    access_key: Some(after.to_proto()),
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
        let (now, accounts, caller) = (m.now, self.accounts.clone(), m.principal.clone());
        let response = write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let before = store::key_in_partner(tx, partner_id, id)
                    .await?
                    .ok_or(GatewayError::AccessKeyNotFound)?;
                accounts
                    .actable_user(tx, &caller, partner_id, before.user_id)
                    .await?;
                if !store::delete(tx, partner_id, id).await? {
                    return Err(GatewayError::AccessKeyNotFound);
                }
                revoke_for_access_key(tx, partner_id, id, now).await?;
                let change = Change::of(Some(partner_id), id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .announce("access_key.deleted");
                Ok::<_, GatewayError>(Outcome::new(pb::DeleteAccessKeyResponse {}, change))
            })
        })
        .await;
        self.sessions.forget_cached();
        response
    }
}
