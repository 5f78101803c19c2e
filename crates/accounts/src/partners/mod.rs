//! The partner lifecycle: register, read, list, update, suspend, reinstate.

pub mod model;
pub mod store;

pub use model::{EnterpriseMembership, Partner, PartnerState};

use partner_api::accounts::v1 as pb;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::PageScope;
use partner_kernel::permission::Permission;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::DatabaseTransaction;

use self::store::{PartnerUpdate, load_partner, with_details};
use crate::access as perm;
use crate::error::AccountsError;
use crate::service::{Accounts, Page, PageRequest};
use crate::users::User;
use crate::users::store::{self as user_store, NewUserRow};

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
    /// Account facts the eligibility rules read; operator only.
    pub in_arrears: Option<bool>,
    pub enterprise_membership: Option<EnterpriseMembership>,
    pub has_credit_account: Option<bool>,
    /// Marketing programme 2.0; operator only.
    pub marketing_programme_v2: Option<bool>,
}

impl PartnerPatch {
    /// Whether the patch touches the account facts only the operator may set.
    fn sets_account_facts(&self) -> bool {
        self.in_arrears.is_some()
            || self.enterprise_membership.is_some()
            || self.has_credit_account.is_some()
            || self.marketing_programme_v2.is_some()
    }
}

impl Accounts {
    /// Registers a partner and its master user. Operator only.
    pub async fn register_partner(
        &self,
        m: Mutation,
        cmd: NewPartner,
    ) -> Result<pb::RegisterPartnerResponse, AccountsError> {
        m.principal.require(perm::PLATFORM_PARTNERS_REGISTER)?;
        if let Some(replay) = self.before_hashing(&m, &cmd.master_username).await? {
            return Ok(replay);
        }
        let hash = self.hash_password(cmd.master_password).await?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (partner, master, change) = create_partner_with_master(
                    tx,
                    now,
                    PartnerRows {
                        partner_id: PartnerId::generate(),
                        master_id: UserId::generate(),
                        display_name: cmd.display_name,
                        contact_email: cmd.contact_email,
                        master_username: cmd.master_username,
                        password_hash: hash,
                    },
                )
                .await?;
                let response = pb::RegisterPartnerResponse {
                    partner: Some(partner.to_proto()),
                    master_user: Some(master.to_proto()),
                };
                Ok(Outcome::new(response, change))
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
            perm::PLATFORM_PARTNERS_READ,
            perm::PARTNER_PROFILE_READ,
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
        p.require(perm::PLATFORM_PARTNERS_READ)?;
        let scope = PageScope::new("ListPartners", "platform")
            .filter("state", state.map_or("", PartnerState::as_str))
            .filter("prefix", name_prefix.as_deref().unwrap_or(""));
        let now = self.clock().now();
        let after = self.pages().decode(&scope, &page.token, now)?;
        let rows = store::list_all_partners(
            self.db().conn(),
            state,
            name_prefix.as_deref(),
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        let page = self.paginate(rows, page.size, &scope, |m| m.partner_id.clone());
        Ok(Page {
            items: with_details(self.db().conn(), page.items).await?,
            next_page_token: page.next_page_token,
        })
    }

    /// Updates a partner's profile.
    pub async fn update_partner(
        &self,
        m: Mutation,
        id: PartnerId,
        patch: PartnerPatch,
    ) -> Result<pb::UpdatePartnerResponse, AccountsError> {
        self.authorize_partner(
            &m.principal,
            id,
            perm::PLATFORM_PARTNERS_UPDATE,
            perm::PARTNER_PROFILE_UPDATE,
        )?;
        if patch.sets_account_facts() {
            // Until billing owns them, these facts are the operator's word.
            m.principal.require(perm::PLATFORM_PARTNERS_UPDATE)?;
        }
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = load_partner(tx, id).await?;
                let update = PartnerUpdate {
                    display_name: patch.display_name,
                    contact_email: patch.contact_email,
                    in_arrears: patch.in_arrears,
                    enterprise_membership: patch.enterprise_membership,
                    has_credit_account: patch.has_credit_account,
                    marketing_programme_v2: patch.marketing_programme_v2,
                    state: None,
                };
                let after = store::update_partner(tx, id, update, now).await?;
                let change = Change::of(Some(id), id)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("partner.updated");
                let response = pb::UpdatePartnerResponse {
                    partner: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
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
        id: PartnerId,
        suspend: bool,
        reason: String,
    ) -> Result<pb::Partner, AccountsError> {
        m.principal.require(perm::PLATFORM_PARTNERS_SUSPEND)?;
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
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = load_partner(tx, id).await?;
                if before.state != from {
                    return Err(AccountsError::PartnerStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let update = PartnerUpdate {
                    state: Some((to, suspend.then(|| reason.clone()))),
                    ..PartnerUpdate::default()
                };
                let after = store::update_partner(tx, id, update, now).await?;
                let change = Change::of(Some(id), id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce(event_type);
                Ok(Outcome::new(after.to_proto(), change))
            })
        })
        .await;
        // Whatever the outcome, nobody may keep acting on a stale status.
        self.invalidate();
        response
    }
}

/// What a new partner and its master user are made of.
pub(crate) struct PartnerRows {
    pub partner_id: PartnerId,
    pub master_id: UserId,
    pub display_name: String,
    pub contact_email: String,
    pub master_username: String,
    pub password_hash: String,
}

/// Creates an ACTIVE partner and its master user inside `tx`, and the change
/// to audit and announce (`partner.registered`): registration by the
/// operator and sign-up by invitation both start here.
pub(crate) async fn create_partner_with_master(
    tx: &DatabaseTransaction,
    now: chrono::DateTime<chrono::Utc>,
    rows: PartnerRows,
) -> Result<(Partner, User, Change), AccountsError> {
    if user_store::username_taken(tx, &rows.master_username).await? {
        return Err(AccountsError::UsernameTaken);
    }
    let mut partner = store::insert_partner(
        tx,
        rows.partner_id,
        rows.display_name,
        rows.contact_email.clone(),
        rows.master_id,
        now,
    )
    .await?;
    // Every partner starts with one sales platform of its own.
    let platform = crate::sales_platforms::generate()?;
    crate::sales_platforms::issue_in(tx, rows.partner_id, &platform, now).await?;
    partner.sales_platform_ids.push(platform);
    let master = NewUserRow {
        id: rows.master_id,
        partner_id: Some(rows.partner_id),
        username: &rows.master_username,
        display_name: &rows.master_username,
        email: &rows.contact_email,
        password_hash: rows.password_hash,
        is_master: true,
    };
    let master = user_store::insert_user(tx, master, now).await?;
    let change = Change::of(Some(rows.partner_id), rows.partner_id)
        .after(partner.audit_summary())
        .announce("partner.registered");
    Ok((partner, master, change))
}
