//! A partner's users: create, read, list, update, disable, enable, delete.
//! Every verb that acts on a user other than the caller asks [`outrank`]
//! first, inside its transaction; disabling ends the user's sessions and
//! deleting also its access keys ([`offboarding`]), in the same transaction.

pub mod model;
pub mod offboarding;
pub(crate) mod outrank;
pub mod store;

pub use model::{User, UserState};
pub use offboarding::Offboarding;

use partner_api::accounts::v1 as pb;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::PageScope;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::DatabaseTransaction;

use self::store::{NewUserRow, UserUpdate};
use crate::access as perm;
use crate::error::AccountsError;
use crate::roles;
use crate::service::{Accounts, Page, PageRequest};
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

/// Changes to a user's profile; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// What a state change does.
#[derive(Debug, Clone, Copy)]
enum StateChange {
    Disable,
    Enable,
    Delete,
}

impl StateChange {
    /// The state it leaves from, the state it goes to, and its event.
    fn plan(self) -> (UserState, UserState, &'static str) {
        match self {
            Self::Disable => (UserState::Active, UserState::Disabled, "user.disabled"),
            Self::Enable => (UserState::Disabled, UserState::Active, "user.enabled"),
            Self::Delete => (UserState::Active, UserState::Deleted, "user.deleted"),
        }
    }
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
                let display_name = if cmd.display_name.is_empty() {
                    &cmd.username
                } else {
                    &cmd.display_name
                };
                let row = NewUserRow {
                    id: UserId::generate(),
                    partner_id: Some(partner_id),
                    username: &cmd.username,
                    display_name,
                    email: &cmd.email,
                    password_hash: hash,
                    is_master: false,
                };
                let user = store::insert_user(tx, row, now).await?;
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

    /// Reads a user of the caller's partner, with its roles.
    pub async fn get_user(&self, p: &Principal, id: UserId) -> Result<User, AccountsError> {
        let partner_id = p.require_partner(perm::USERS_READ)?;
        store::load_user(self.db().conn(), partner_id, id).await
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
        Ok(self.paginate(rows, page.size, &scope, |u| u.id.to_string()))
    }

    /// Changes a user's display name or email.
    pub async fn update_user(
        &self,
        m: Mutation,
        id: UserId,
        patch: UserPatch,
    ) -> Result<pb::UpdateUserResponse, AccountsError> {
        let partner_id = m.principal.require_partner(perm::USERS_UPDATE)?;
        let (now, caller, catalog) = (m.now, m.principal.clone(), self.catalog().clone());
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = actable(tx, &catalog, &caller, partner_id, id).await?;
                if before.state == UserState::Deleted {
                    return Err(AccountsError::UserStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let update = UserUpdate {
                    display_name: patch.display_name,
                    email: patch.email,
                    ..UserUpdate::default()
                };
                let after = store::update_user(tx, partner_id, id, update, now).await?;
                let change = Change::of(Some(partner_id), id)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("user.updated");
                let response = pb::UpdateUserResponse {
                    user: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.invalidate();
        response
    }

    /// Disables a sub-user and ends its sessions; its keys stop working
    /// while it is disabled.
    pub async fn disable_user(
        &self,
        m: Mutation,
        id: UserId,
        reason: String,
    ) -> Result<pb::DisableUserResponse, AccountsError> {
        m.principal.require_partner(perm::USERS_DISABLE)?;
        let user = self
            .change_state(m, id, reason, StateChange::Disable)
            .await?;
        Ok(pb::DisableUserResponse { user: Some(user) })
    }

    /// Enables a disabled sub-user.
    pub async fn enable_user(
        &self,
        m: Mutation,
        id: UserId,
        reason: String,
    ) -> Result<pb::EnableUserResponse, AccountsError> {
        m.principal.require_partner(perm::USERS_DISABLE)?;
        let user = self
            .change_state(m, id, reason, StateChange::Enable)
            .await?;
        Ok(pb::EnableUserResponse { user: Some(user) })
    }

    /// Deletes a sub-user: its sessions end, its access keys and roles go,
    /// and its username stays reserved.
    pub async fn delete_user(
        &self,
        m: Mutation,
        id: UserId,
        reason: String,
    ) -> Result<pb::DeleteUserResponse, AccountsError> {
        m.principal.require_partner(perm::USERS_DELETE)?;
        let user = self
            .change_state(m, id, reason, StateChange::Delete)
            .await?;
        Ok(pb::DeleteUserResponse { user: Some(user) })
    }

    async fn change_state(
        &self,
        m: Mutation,
        id: UserId,
        reason: String,
        verb: StateChange,
    ) -> Result<pb::User, AccountsError> {
        let partner_id = m
            .principal
            .partner_id()
            .ok_or(AccountsError::UserNotFound)?;
        let (now, caller, catalog) = (m.now, m.principal.clone(), self.catalog().clone());
        let offboarding = self.offboarding().clone();
        let (from, to, event) = verb.plan();
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = actable(tx, &catalog, &caller, partner_id, id).await?;
                if before.is_master {
                    return Err(AccountsError::MasterUserImmutable);
                }
                let allowed = before.state == from
                    || matches!(
                        (verb, before.state),
                        (StateChange::Delete, UserState::Disabled)
                    );
                if !allowed {
                    return Err(AccountsError::UserStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let mut key_changes = Vec::new();
                let mut sessions_ended = 0;
                let mut roles_removed = 0;
                if matches!(verb, StateChange::Disable | StateChange::Delete) {
                    sessions_ended = offboarding.end_sessions(tx, partner_id, id, now).await?;
                }
                if matches!(verb, StateChange::Delete) {
                    key_changes = offboarding
                        .delete_access_keys(tx, partner_id, id, now)
                        .await?;
                    roles_removed = roles::store::delete_memberships_of(tx, partner_id, id).await?;
                }
                let update = UserUpdate {
                    state: Some(to),
                    ..UserUpdate::default()
                };
                let after = store::update_user(tx, partner_id, id, update, now).await?;
                let mut summary = after.audit_summary();
                summary["sessions_ended"] = sessions_ended.into();
                if matches!(verb, StateChange::Delete) {
                    summary["access_keys_deleted"] = key_changes.len().into();
                    summary["roles_removed"] = roles_removed.into();
                }
                let change = Change::of(Some(partner_id), id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(summary)
                    .announce(event);
                let outcome = Outcome::new(after.to_proto(), change);
                Ok(key_changes.into_iter().fold(outcome, Outcome::and))
            })
        })
        .await;
        // Whatever the outcome, nobody may keep acting on a stale status.
        self.invalidate();
        response
    }

    /// A user of `partner` the caller may act on ([`outrank`]), read and
    /// locked through `conn` (another domain's transaction): the access-key
    /// verbs ask here before touching a user's keys.
    pub async fn actable_user(
        &self,
        tx: &DatabaseTransaction,
        caller: &Principal,
        partner: PartnerId,
        id: UserId,
    ) -> Result<User, AccountsError> {
        actable(tx, self.catalog(), caller, partner, id).await
    }
}

/// The user `id` of `partner`, locked, once the caller may act on it.
pub(crate) async fn actable(
    tx: &DatabaseTransaction,
    catalog: &partner_kernel::permission::Catalog,
    caller: &Principal,
    partner: PartnerId,
    id: UserId,
) -> Result<User, AccountsError> {
    let row = store::user_in_partner_for_update(tx, partner, id)
        .await?
        .ok_or(AccountsError::UserNotFound)?;
    let user = User::try_from(row)?;
    let caller = outrank::current(tx, catalog, caller).await?;
    outrank::may_act_on(tx, catalog, &caller, &user).await?;
    Ok(user)
}
