//! The accounts domain: partner lifecycle and sub-users. Every mutation runs in
//! one transaction with its idempotency record, audit record and outbox event.

use std::sync::Arc;
use std::time::Duration;

use partner_api::accounts::v1 as pb;
use partner_kernel::audit::{self, AuditEntry};
use partner_kernel::cache::TtlCache;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::idempotency;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::outbox::{self, Event};
use partner_kernel::page::{PageScope, PageTokens};
use partner_kernel::permission::Permission;
use partner_kernel::principal::{Actor, Principal};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, Set, SqlErr};

use crate::entity::{partner, user};
use crate::error::AccountsError;
use crate::model::{Partner, PartnerState, User, UserState};
use crate::password::Passwords;
use crate::store;

/// How long the authentication layer may trust a cached account status. Changes
/// made by this process invalidate the cache at once; other replicas catch up
/// within this window.
const STATUS_TTL: Duration = Duration::from_secs(2);

/// What the authentication layer needs to know about a caller on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStatus {
    /// Kind and tenant, from the stored user.
    pub actor: Actor,
    /// The user's state.
    pub user_state: UserState,
    /// The partner's state; `None` for the operator.
    pub partner_state: Option<PartnerState>,
}

/// A user found by login name, with what login needs to decide.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    /// The user.
    pub user: User,
    /// Its password hash (PHC string).
    pub password_hash: String,
    /// Its partner's state; `None` for the operator.
    pub partner_state: Option<PartnerState>,
}

/// A partner to register.
#[derive(Debug)]
pub struct NewPartner {
    pub display_name: String,
    pub contact_email: String,
    pub master_username: String,
    pub master_password: String,
}

/// Changes to a partner's profile; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct PartnerPatch {
    pub display_name: Option<String>,
    pub contact_email: Option<String>,
}

/// A sub-user to create.
#[derive(Debug)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub email: String,
}

/// A page of results.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

/// A list request after parsing.
#[derive(Debug)]
pub struct PageRequest {
    pub size: u64,
    pub token: String,
}

/// The accounts domain service.
#[derive(Debug, Clone)]
pub struct Accounts {
    db: Db,
    clock: SharedClock,
    passwords: Passwords,
    pages: PageTokens,
    status: Arc<TtlCache<UserId, AccountStatus>>,
    partners: Arc<TtlCache<PartnerId, Partner>>,
}

impl Accounts {
    /// The service over `db`.
    pub fn new(db: Db, clock: SharedClock, passwords: Passwords, pages: PageTokens) -> Self {
        Self {
            db,
            clock,
            passwords,
            pages,
            status: Arc::new(TtlCache::new(STATUS_TTL)),
            partners: Arc::new(TtlCache::new(STATUS_TTL)),
        }
    }

    /// Password hashing, shared with the gateway so that both draw on one bound.
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// A partner, from the cache when it was read within [`STATUS_TTL`].
    /// Partner rows change rarely and only through this service, which clears
    /// the cache on every change; other replicas catch up within the TTL.
    async fn cached_partner(&self, id: PartnerId) -> Result<Partner, AccountsError> {
        if let Some(hit) = self.partners.get(&id) {
            return Ok(hit);
        }
        let partner = load_partner(self.db.conn(), id).await?;
        self.partners.put(id, partner.clone());
        Ok(partner)
    }

    /// Forgets cached partners and statuses after a change.
    fn invalidate(&self) {
        self.partners.invalidate_all();
        self.status.invalidate_all();
    }

    /// The database.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The page-token signer.
    pub(crate) fn pages(&self) -> &PageTokens {
        &self.pages
    }

    /// The platform clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Hashes on the blocking pool: Argon2 takes tens of milliseconds of CPU.
    async fn hash_password(&self, password: String) -> Result<String, AccountsError> {
        self.passwords
            .hash(password)
            .await
            .map_err(AccountsError::Hashing)
    }

    /// Creates the platform operator `username` unless an operator exists.
    /// Returns true when it created one.
    pub async fn ensure_operator(
        &self,
        username: &str,
        password: String,
    ) -> Result<bool, AccountsError> {
        if store::operator_exists(self.db.conn()).await? {
            return Ok(false);
        }
        let hash = self.hash_password(password).await?;
        let tx = self.db.begin_write().await?;
        if store::operator_exists(&*tx).await? {
            return Ok(false);
        }
        let now = self.clock.now();
        insert_user(
            &tx,
            UserId::generate(),
            None,
            username,
            username,
            "",
            hash,
            true,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Registers a partner and its master user. Operator only.
    pub async fn register_partner(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        cmd: NewPartner,
    ) -> Result<pb::RegisterPartnerResponse, AccountsError> {
        m.principal.require(Permission::PlatformPartnersRegister)?;
        let hash = self.hash_password(cmd.master_password).await?;
        let mm = m.clone();
        idempotency::run(&self.db, &m, fingerprint, move |tx| {
            Box::pin(async move {
                if store::username_taken(tx, &cmd.master_username).await? {
                    return Err(AccountsError::UsernameTaken);
                }
                let partner_id = PartnerId::generate();
                let master_id = UserId::generate();
                let partner: Partner = partner::ActiveModel {
                    partner_id: Set(partner_id.to_string()),
                    display_name: Set(cmd.display_name),
                    contact_email: Set(cmd.contact_email.clone()),
                    state: Set(PartnerState::Active.as_str().to_owned()),
                    master_user_id: Set(master_id.to_string()),
                    suspend_reason: Set(None),
                    created_at: Set(mm.now),
                    updated_at: Set(mm.now),
                }
                .insert(tx)
                .await?
                .try_into()?;
                let master = insert_user(
                    tx,
                    master_id,
                    Some(partner_id),
                    &cmd.master_username,
                    &cmd.master_username,
                    &cmd.contact_email,
                    hash,
                    true,
                    mm.now,
                )
                .await?;
                let entry = AuditEntry {
                    partner_id: Some(partner_id),
                    resource_id: partner_id.to_string(),
                    after: Some(partner.audit_summary()),
                    ..AuditEntry::default()
                };
                audit::record(tx, &mm, entry).await?;
                let event = partner_event(&partner, "partner.registered");
                outbox::append(tx, &mm, event).await?;
                Ok(pb::RegisterPartnerResponse {
                    partner: Some(partner.to_proto()),
                    master_user: Some(master.to_proto()),
                })
            })
        })
        .await
    }

    /// Reads a partner: any for the operator, only its own for a partner user.
    pub async fn get_partner(
        &self,
        p: &Principal,
        id: PartnerId,
    ) -> Result<Partner, AccountsError> {
        self.authorize_partner(
            p,
            id,
            Permission::PlatformPartnersRead,
            Permission::PartnerProfileRead,
        )?;
        self.cached_partner(id).await
    }

    /// Operator: the platform permission; partner users: the partner
    /// permission and only their own partner (others are NOT_FOUND).
    fn authorize_partner(
        &self,
        p: &Principal,
        id: PartnerId,
        platform: Permission,
        own: Permission,
    ) -> Result<(), AccountsError> {
        if p.is_operator() {
            p.require(platform)?;
        } else if p.require_partner(own)? != id {
            return Err(AccountsError::PartnerNotFound);
        }
        Ok(())
    }

    /// Lists partners. Operator only.
    pub async fn list_partners(
        &self,
        p: &Principal,
        state: Option<PartnerState>,
        name_prefix: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Partner>, AccountsError> {
        p.require(Permission::PlatformPartnersRead)?;
        let scope = PageScope::new("ListPartners", "platform")
            .filter("state", state.map_or("", PartnerState::as_str))
            .filter("prefix", name_prefix.as_deref().unwrap_or(""));
        let now = self.clock.now();
        let after = self.pages.decode(&scope, &page.token, now)?;
        let rows = store::list_all_partners(
            self.db.conn(),
            state,
            name_prefix.as_deref(),
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        self.paginate(rows, page.size, &scope, |m| m.partner_id.clone())
    }

    /// Cuts one page from `size + 1` rows and signs the token of the next.
    pub(crate) fn paginate<M, T>(
        &self,
        mut rows: Vec<M>,
        size: u64,
        scope: &PageScope,
        key: impl Fn(&M) -> String,
    ) -> Result<Page<T>, AccountsError>
    where
        T: TryFrom<M, Error = KernelError>,
    {
        let more = rows.len() as u64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => self.pages.encode(scope, &key(last), self.clock.now()),
            _ => String::new(),
        };
        let items = rows
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Updates a partner's profile.
    pub async fn update_partner(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        id: PartnerId,
        patch: PartnerPatch,
    ) -> Result<pb::UpdatePartnerResponse, AccountsError> {
        self.authorize_partner(
            &m.principal,
            id,
            Permission::PlatformPartnersUpdate,
            Permission::PartnerProfileUpdate,
        )?;
        let mm = m.clone();
        let response = idempotency::run(&self.db, &m, fingerprint, move |tx| {
            Box::pin(async move {
                let before = load_partner(tx, id).await?;
                let mut row: partner::ActiveModel = partner::ActiveModel {
                    partner_id: Set(id.to_string()),
                    updated_at: Set(mm.now),
                    ..Default::default()
                };
                if let Some(name) = patch.display_name {
                    row.display_name = Set(name);
                }
                if let Some(email) = patch.contact_email {
                    row.contact_email = Set(email);
                }
                let after: Partner = row.update(tx).await?.try_into()?;
                let entry = AuditEntry {
                    partner_id: Some(id),
                    resource_id: id.to_string(),
                    before: Some(before.audit_summary()),
                    after: Some(after.audit_summary()),
                    ..AuditEntry::default()
                };
                audit::record(tx, &mm, entry).await?;
                outbox::append(tx, &mm, partner_event(&after, "partner.updated")).await?;
                Ok(pb::UpdatePartnerResponse {
                    partner: Some(after.to_proto()),
                })
            })
        })
        .await;
        self.invalidate();
        response
    }

    /// Moves a partner between ACTIVE and SUSPENDED. Operator only.
    pub async fn set_partner_suspended(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        id: PartnerId,
        suspend: bool,
        reason: String,
    ) -> Result<pb::Partner, AccountsError> {
        m.principal.require(Permission::PlatformPartnersSuspend)?;
        let (from, to, event_type) = if suspend {
            (
                PartnerState::Active,
                PartnerState::Suspended,
                "partner.suspended",
            )
        } else {
            (
                PartnerState::Suspended,
                PartnerState::Active,
                "partner.reinstated",
            )
        };
        let mm = m.clone();
        let response = idempotency::run(&self.db, &m, fingerprint, move |tx| {
            Box::pin(async move {
                let before = load_partner(tx, id).await?;
                if before.state != from {
                    return Err(AccountsError::PartnerStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let after: Partner = partner::ActiveModel {
                    partner_id: Set(id.to_string()),
                    state: Set(to.as_str().to_owned()),
                    suspend_reason: Set(suspend.then(|| reason.clone())),
                    updated_at: Set(mm.now),
                    ..Default::default()
                }
                .update(tx)
                .await?
                .try_into()?;
                let entry = AuditEntry {
                    partner_id: Some(id),
                    resource_id: id.to_string(),
                    reason: Some(reason),
                    before: Some(before.audit_summary()),
                    after: Some(after.audit_summary()),
                };
                audit::record(tx, &mm, entry).await?;
                outbox::append(tx, &mm, partner_event(&after, event_type)).await?;
                Ok(after.to_proto())
            })
        })
        .await;
        // Whatever the outcome, nobody may keep acting on a stale status.
        self.invalidate();
        response
    }

    /// Creates a sub-user of the caller's partner.
    pub async fn create_user(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        cmd: NewUser,
    ) -> Result<pb::CreateUserResponse, AccountsError> {
        let partner_id = m.principal.require_partner(Permission::UsersCreate)?;
        let hash = self.hash_password(cmd.password).await?;
        let mm = m.clone();
        idempotency::run(&self.db, &m, fingerprint, move |tx| {
            Box::pin(async move {
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
        let partner_id = p.require_partner(Permission::UsersRead)?;
        load_user(self.db.conn(), partner_id, id).await
    }

    /// Lists the users of the caller's partner.
    pub async fn list_users(
        &self,
        p: &Principal,
        state: Option<UserState>,
        page: PageRequest,
    ) -> Result<Page<User>, AccountsError> {
        let partner_id = p.require_partner(Permission::UsersRead)?;
        let scope = PageScope::new("ListUsers", &partner_id.to_string())
            .filter("state", state.map_or("", UserState::as_str));
        let after = self.pages.decode(&scope, &page.token, self.clock.now())?;
        let rows = store::list_users(
            self.db.conn(),
            partner_id,
            state,
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        self.paginate(rows, page.size, &scope, |m| m.id.clone())
    }

    /// Disables a sub-user of the caller's partner.
    pub async fn disable_user(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        id: UserId,
        reason: String,
    ) -> Result<pb::DisableUserResponse, AccountsError> {
        let partner_id = m.principal.require_partner(Permission::UsersDisable)?;
        let mm = m.clone();
        let response = idempotency::run(&self.db, &m, fingerprint, move |tx| {
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

    /// The user signing in as `username`, if any.
    pub async fn find_login(
        &self,
        username: &str,
    ) -> Result<Option<LoginCandidate>, AccountsError> {
        let Some(row) = store::login_user_by_username(self.db.conn(), username).await? else {
            return Ok(None);
        };
        let password_hash = row.password_hash.clone();
        let user = User::try_from(row)?;
        let partner_state = self.partner_state_of(&user).await?;
        Ok(Some(LoginCandidate {
            user,
            password_hash,
            partner_state,
        }))
    }

    async fn partner_state_of(&self, user: &User) -> Result<Option<PartnerState>, AccountsError> {
        match user.partner_id {
            None => Ok(None),
            Some(pid) => Ok(Some(self.cached_partner(pid).await?.state)),
        }
    }

    /// The current status of a caller, cached for a moment; `None` when the user
    /// no longer exists.
    pub async fn principal_status(
        &self,
        id: UserId,
    ) -> Result<Option<AccountStatus>, AccountsError> {
        if let Some(hit) = self.status.get(&id) {
            return Ok(Some(hit));
        }
        let Some(row) = store::principal_user(self.db.conn(), id).await? else {
            return Ok(None);
        };
        let user = User::try_from(row)?;
        let status = AccountStatus {
            actor: user.actor(),
            user_state: user.state,
            partner_state: self.partner_state_of(&user).await?,
        };
        self.status.put(id, status);
        Ok(Some(status))
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_user(
    tx: &DatabaseTransaction,
    id: UserId,
    partner_id: Option<PartnerId>,
    username: &str,
    display_name: &str,
    email: &str,
    password_hash: String,
    is_master: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<User, AccountsError> {
    let inserted = user::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(partner_id.map(|p| p.to_string())),
        username: Set(username.to_owned()),
        display_name: Set(display_name.to_owned()),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash),
        state: Set(UserState::Active.as_str().to_owned()),
        is_master: Set(is_master),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx)
    .await
    .map_err(username_conflict)?;
    Ok(inserted.try_into()?)
}

/// A concurrent registration of the same username loses on the unique index.
fn username_conflict(e: DbErr) -> AccountsError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AccountsError::UsernameTaken,
        _ => AccountsError::from(e),
    }
}

async fn load_partner(
    conn: &impl sea_orm::ConnectionTrait,
    id: PartnerId,
) -> Result<Partner, AccountsError> {
    let row = store::partner(conn, id)
        .await?
        .ok_or(AccountsError::PartnerNotFound)?;
    Ok(row.try_into()?)
}

async fn load_user(
    conn: &impl sea_orm::ConnectionTrait,
    partner: PartnerId,
    id: UserId,
) -> Result<User, AccountsError> {
    let row = store::user_in_partner(conn, partner, id)
        .await?
        .ok_or(AccountsError::UserNotFound)?;
    Ok(row.try_into()?)
}

fn partner_event(p: &Partner, event_type: &'static str) -> Event {
    Event {
        partner_id: Some(p.id),
        event_type,
        resource_id: p.id.to_string(),
        payload: serde_json::json!({ "partner_id": p.id.to_string(), "state": p.state.as_str() }),
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
