//! A partner's sub-users: create, read, list, disable.

use partner_api::accounts::v1 as pb;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::PageScope;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
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
        cmd: NewUser,
    ) -> Result<pb::CreateUserResponse, AccountsError> {
        let tenant = self
            .resolve_tenant(&m.principal, perm::USERS_CREATE, cmd.reseller_id)
            .await?;
        let (own, partner_id) = (m.principal.partner_id(), tenant.partner_id);
        m.acting_for = tenant.acting_for();
        // Cheap refusals first: a replay and a taken name cost no hash.
        if let Some(replay) = self.before_hashing(&m, &cmd.username).await? {
            return Ok(replay);
        }
        let hash = self.hash_password(cmd.password).await?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
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
                    now,
                )
                .await?;
                let change = Change::of(Some(partner_id), user.id)
                    .after(user.audit_summary())
                    .announce("user.created");
                let response = pb::CreateUserResponse {
                    user: Some(user.to_proto()),
                };
                Ok(Outcome::new(response, change))
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
        id: UserId,
        reason: String,
    ) -> Result<pb::DisableUserResponse, AccountsError> {
        let partner_id = m.principal.require_partner(perm::USERS_DISABLE)?;
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
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
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(tx)
                .await?
                .try_into()?;
                let change = Change::of(Some(partner_id), id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("user.disabled");
                let response = pb::DisableUserResponse {
                    user: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.invalidate();
        response
    }
}
