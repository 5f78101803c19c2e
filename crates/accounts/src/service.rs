//! The accounts service: its state (database, caches, password hashing, page
//! tokens), the reads the authentication layer needs, and the helpers the
//! partner and user verbs share. The verbs themselves live in `partners.rs`
//! and `users.rs`; every mutation runs in one transaction with its idempotency
//! record, audit record and outbox event.

use std::sync::Arc;
use std::time::Duration;

use partner_kernel::cache::TtlCache;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{PageScope, PageTokens};
use partner_kernel::permission::{Catalog, PermissionSet};
use partner_kernel::principal::Actor;
use partner_kernel::write;

use crate::error::AccountsError;
use crate::partners::store::load_partner;
use crate::partners::{Partner, PartnerState};
use crate::password::Passwords;
use crate::roles;
use crate::users::{Offboarding, store};
use crate::users::{User, UserState};

/// How long the authentication layer may trust a cached account status. Changes
/// made by this process invalidate the cache at once; other replicas catch up
/// within this window.
const STATUS_TTL: Duration = Duration::from_secs(2);

/// What the authentication layer needs to know about a caller on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    /// Kind and tenant, from the stored user.
    pub actor: Actor,
    /// The user's state.
    pub user_state: UserState,
    /// The partner's state; `None` for the operator.
    pub partner_state: Option<PartnerState>,
    /// What the caller may do now; see [`Catalog::fixed_permissions`].
    pub permissions: PermissionSet,
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

pub use partner_kernel::page::Page;

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
    catalog: Catalog,
    offboarding: Arc<dyn Offboarding>,
    status: Arc<TtlCache<UserId, AccountStatus>>,
    partners: Arc<TtlCache<PartnerId, Partner>>,
}

impl Accounts {
    /// The service over `db`; `catalog` holds every permission of the platform.
    pub fn new(
        db: Db,
        clock: SharedClock,
        passwords: Passwords,
        pages: PageTokens,
        catalog: Catalog,
        offboarding: Arc<dyn Offboarding>,
    ) -> Self {
        Self {
            db,
            catalog,
            offboarding,
            clock,
            passwords,
            pages,
            status: Arc::new(TtlCache::new(STATUS_TTL)),
            partners: Arc::new(TtlCache::new(STATUS_TTL)),
        }
    }

    /// What ends a user's sessions and keys (the gateway's).
    pub(crate) fn offboarding(&self) -> &Arc<dyn Offboarding> {
        &self.offboarding
    }

    /// Every permission of the platform.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Password hashing, shared with the gateway so that both draw on one bound.
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// A partner, from the cache when it was read within [`STATUS_TTL`].
    /// Partner rows change rarely and only through this service, which clears
    /// the cache on every change; other replicas catch up within the TTL.
    pub(crate) async fn cached_partner(&self, id: PartnerId) -> Result<Partner, AccountsError> {
        let ticket = match self.partners.lookup(&id) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let partner = load_partner(self.db.conn(), id).await?;
        self.partners.put(ticket, id, partner.clone());
        Ok(partner)
    }

    /// A partner as other domains need it (no permission check: the caller
    /// decides what it may see), from the cache.
    pub async fn partner_record(&self, id: PartnerId) -> Result<Partner, AccountsError> {
        self.cached_partner(id).await
    }

    /// A partner read through `conn` (inside another domain's write).
    pub async fn partner_in(
        conn: &impl sea_orm::ConnectionTrait,
        id: PartnerId,
    ) -> Result<Partner, AccountsError> {
        load_partner(conn, id).await
    }

    /// Forgets cached partners and statuses after a change.
    pub(crate) fn invalidate(&self) {
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
    pub(crate) async fn hash_password(&self, password: String) -> Result<String, AccountsError> {
        Ok(self.passwords.hash(password).await?)
    }

    /// The cheap checks before a new user's password is hashed: a replay of
    /// an earlier identical call is answered at once (`Some`), a taken login
    /// name refused. Both are decided again under the write's claim.
    pub(crate) async fn before_hashing<R: prost::Message + Default>(
        &self,
        m: &Mutation,
        username: &str,
    ) -> Result<Option<R>, AccountsError> {
        if let Some(replay) = write::replayed(&self.db, m).await? {
            return Ok(Some(replay));
        }
        if store::username_taken(self.db.conn(), username).await? {
            // This very request may have taken it, committed since the first look.
            return match write::replayed(&self.db, m).await? {
                Some(replay) => Ok(Some(replay)),
                None => Err(AccountsError::UsernameTaken),
            };
        }
        Ok(None)
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
        let row = store::NewUserRow {
            id: UserId::generate(),
            partner_id: None,
            username,
            display_name: username,
            email: "",
            password_hash: hash,
            is_master: true,
        };
        store::insert_user(&*tx, row, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Cuts one page from `size + 1` rows and signs the token of the next.
    pub(crate) fn paginate<M>(
        &self,
        rows: Vec<M>,
        size: u64,
        scope: &PageScope,
        key: impl Fn(&M) -> String,
    ) -> Page<M> {
        self.pages.cut(rows, size, scope, self.clock.now(), key)
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

    /// A user of `partner`; another partner's user is `UserNotFound`.
    pub async fn user_in_partner(
        &self,
        conn: &impl sea_orm::ConnectionTrait,
        partner: PartnerId,
        id: UserId,
    ) -> Result<User, AccountsError> {
        let row = store::user_in_partner(conn, partner, id).await?;
        Ok(row.ok_or(AccountsError::UserNotFound)?.try_into()?)
    }

    /// The current status of a caller, cached for a moment; `None` when the user
    /// no longer exists.
    pub async fn principal_status(
        &self,
        id: UserId,
    ) -> Result<Option<AccountStatus>, AccountsError> {
        let ticket = match self.status.lookup(&id) {
            Ok(hit) => return Ok(Some(hit)),
            Err(ticket) => ticket,
        };
        let Some(row) = store::principal_user(self.db.conn(), id).await? else {
            return Ok(None);
        };
        let user = User::try_from(row)?;
        let actor = user.actor();
        let permissions = match (self.catalog.fixed_permissions(actor), actor) {
            (Some(fixed), _) => fixed,
            (None, Actor::PartnerUser(partner)) => {
                roles::sub_user_permissions(self.db.conn(), &self.catalog, partner, id).await?
            }
            (None, Actor::Operator | Actor::PartnerMaster(_) | Actor::Customer(_)) => {
                PermissionSet::empty()
            }
        };
        let status = AccountStatus {
            actor,
            user_state: user.state,
            partner_state: self.partner_state_of(&user).await?,
            permissions,
        };
        self.status.put(ticket, id, status.clone());
        Ok(Some(status))
    }
}
