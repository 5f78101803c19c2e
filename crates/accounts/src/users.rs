//! A partner's sub-users: create, read, list, disable.

use partner_api::accounts::v1 as pb;
use partner_kernel::audit::{self, AuditEntry};
use partner_kernel::idempotency;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::outbox::{self, Event};
use partner_kernel::page::PageScope;
use partner_kernel::principal::Principal;
use sea_orm::{ActiveModelTrait, Set};

use crate::access as perm;
use crate::entity::user;
use crate::error::AccountsError;
use crate::model::{User, UserState};
use crate::service::{Accounts, Page, PageRequest, insert_user, load_user};
use crate::store;
use crate::tenant::resolve_in;

/// A sub-user to create.
#[derive(Debug)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub email: String,
    /// The reseller to create it in, when a distributor acts for one.
    pub reseller_id: Option<PartnerId>,
}

impl Accounts {
    /// Creates a sub-user of the caller's partner, or of a reseller the
    /// caller's partner distributes for (`reseller_id`, ACTIVE link).
    pub async fn create_user(
        &self,
        mut m: Mutation,
        fingerprint: [u8; 32],
        cmd: NewUser,
    ) -> Result<pb::CreateUserResponse, AccountsError> {
        let tenant = self
            .resolve_tenant(&m.principal, perm::USERS_CREATE, cmd.reseller_id)
            .await?;
        let (own, partner_id) = (m.principal.partner_id(), tenant.partner_id);
        m.acting_for = tenant.acting_for();
        let hash = self.hash_password(cmd.password).await?;
        let mm = m.clone();
        idempotency::run(self.db(), &m, fingerprint, move |tx| {
            Box::pin(async move {
                if let Some(own) = own {
                    // A link suspended since the check above stops the write.
                    resolve_in(tx, own, cmd.reseller_id).await?;
                }
                if store::username_taken(tx, &cmd.username).await? {
                    return Err(AccountsError::UsernameTaken);
                }
                let display = if cmd.display_name.is_empty() {
                    cmd.username.clone()
                } else {
                    cmd.display_name
                };
                let user = insert_user(
                    tx,
                    UserId::generate(),
                    Some(partner_id),
                    &cmd.username,
                    &display,
                    &cmd.email,
                    hash,
                    false,
                    mm.now,
                )
                .await?;
                let entry = AuditEntry {
                    partner_id: Some(partner_id),
                    resource_id: user.id.to_string(),
                    after: Some(user.audit_summary()),
                    ..AuditEntry::default()
                };
                audit::record(tx, &mm, entry).await?;
                outbox::append(tx, &mm, user_event(&user, "user.created")).await?;
                Ok(pb::CreateUserResponse {
                    user: Some(user.to_proto()),
                })
            })
        })
        .await
    }

    /// Reads a user of the caller's partner.
    pub async fn get_user(&self, p: &Principal, id: UserId) -> Result<User, AccountsError> {
        let partner_id = p.require_partner(perm::USERS_READ)?;
        load_user(self.db().conn(), partner_id, id).await
    }

    /// Lists the users of the caller's partner, or of a reseller the caller's
    /// partner distributes for (`reseller`, ACTIVE link).
    pub async fn list_users(
        &self,
        p: &Principal,
        reseller: Option<PartnerId>,
        state: Option<UserState>,
        page: PageRequest,
    ) -> Result<Page<User>, AccountsError> {
        let tenant = self.resolve_tenant(p, perm::USERS_READ, reseller).await?;
        let partner_id = tenant.partner_id;
        let caller = tenant.distributor_id.unwrap_or(partner_id);
        let scope = PageScope::new("ListUsers", &caller.to_string())
            .filter("for", partner_id)
            .filter("state", state.map_or("", UserState::as_str));
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows = store::list_users(
            self.db().conn(),
            partner_id,
            state,
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        self.paginate(rows, page.size, &scope, |m| m.id.clone())
            .try_map(User::try_from)
            .map_err(AccountsError::from)
    }

    /// Disables a sub-user of the caller's partner.
    pub async fn disable_user(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        id: UserId,
        reason: String,
    ) -> Result<pb::DisableUserResponse, AccountsError> {
        let partner_id = m.principal.require_partner(perm::USERS_DISABLE)?;
        let mm = m.clone();
        let response = idempotency::run(self.db(), &m, fingerprint, move |tx| {
            Box::pin(async move {
                let before = load_user(tx, partner_id, id).await?;
                if before.is_master {
                    return Err(AccountsError::MasterUserImmutable);
                }
                if before.state != UserState::Active {
                    return Err(AccountsError::UserStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let after: User = user::ActiveModel {
                    id: Set(id.to_string()),
                    state: Set(UserState::Disabled.as_str().to_owned()),
                    updated_at: Set(mm.now),
                    ..Default::default()
                }
                .update(tx)
                .await?
                .try_into()?;
                let entry = AuditEntry {
                    partner_id: Some(partner_id),
                    resource_id: id.to_string(),
                    reason: Some(reason),
                    before: Some(before.audit_summary()),
                    after: Some(after.audit_summary()),
                };
                audit::record(tx, &mm, entry).await?;
                outbox::append(tx, &mm, user_event(&after, "user.disabled")).await?;
                Ok(pb::DisableUserResponse {
                    user: Some(after.to_proto()),
                })
            })
        })
        .await;
        self.invalidate();
        response
    }
}

fn user_event(u: &User, event_type: &'static str) -> Event {
    Event {
        partner_id: u.partner_id,
        event_type,
        resource_id: u.id.to_string(),
        payload: serde_json::json!({ "user_id": u.id.to_string(), "state": u.state.as_str() }),
    }
}
