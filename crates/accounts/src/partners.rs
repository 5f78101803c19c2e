//! The partner lifecycle: register, read, list, update, suspend, reinstate.

use partner_api::accounts::v1 as pb;
use partner_kernel::audit::{self, AuditEntry};
use partner_kernel::idempotency;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::outbox::{self, Event};
use partner_kernel::page::PageScope;
use partner_kernel::permission::Permission;
use partner_kernel::principal::Principal;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

use crate::access as perm;
use crate::entity::partner;
use crate::error::AccountsError;
use crate::model::{EnterpriseMembership, Partner, PartnerState, User};
use crate::service::{Accounts, Page, PageRequest, insert_user, load_partner, with_programs};
use crate::store;

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
}

impl PartnerPatch {
    /// Whether the patch touches the account facts only the operator may set.
    fn sets_account_facts(&self) -> bool {
        self.in_arrears.is_some()
            || self.enterprise_membership.is_some()
            || self.has_credit_account.is_some()
    }
}

impl Accounts {
    /// Registers a partner and its master user. Operator only.
    pub async fn register_partner(
        &self,
        m: Mutation,
        fingerprint: [u8; 32],
        cmd: NewPartner,
    ) -> Result<pb::RegisterPartnerResponse, AccountsError> {
        m.principal.require(perm::PLATFORM_PARTNERS_REGISTER)?;
        let hash = self.hash_password(cmd.master_password).await?;
        let mm = m.clone();
        idempotency::run(self.db(), &m, fingerprint, move |tx| {
            Box::pin(async move {
                let (partner, master) = create_partner_with_master(
                    tx,
                    &mm,
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
            items: with_programs(self.db().conn(), page.items).await?,
            next_page_token: page.next_page_token,
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
            perm::PLATFORM_PARTNERS_UPDATE,
            perm::PARTNER_PROFILE_UPDATE,
        )?;
        if patch.sets_account_facts() {
            // Until billing owns them, these facts are the operator's word.
            m.principal.require(perm::PLATFORM_PARTNERS_UPDATE)?;
        }
        let mm = m.clone();
        let response = idempotency::run(self.db(), &m, fingerprint, move |tx| {
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
                if let Some(v) = patch.in_arrears {
                    row.in_arrears = Set(v);
                }
                if let Some(v) = patch.enterprise_membership {
                    row.enterprise_membership = Set(v.as_str().to_owned());
                }
                if let Some(v) = patch.has_credit_account {
                    row.has_credit_account = Set(v);
                }
                let mut after: Partner = row.update(tx).await?.try_into()?;
                after.programs = before.programs.clone();
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
        let mm = m.clone();
        let response = idempotency::run(self.db(), &m, fingerprint, move |tx| {
            Box::pin(async move {
                let before = load_partner(tx, id).await?;
                if before.state != from {
                    return Err(AccountsError::PartnerStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let mut after: Partner = partner::ActiveModel {
                    partner_id: Set(id.to_string()),
                    state: Set(to.as_str().to_owned()),
                    suspend_reason: Set(suspend.then(|| reason.clone())),
                    updated_at: Set(mm.now),
                    ..Default::default()
                }
                .update(tx)
                .await?
                .try_into()?;
                after.programs = before.programs.clone();
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

/// Creates an ACTIVE partner and its master user inside `tx`, with the audit
/// record and the `partner.registered` event: registration by the operator
/// and sign-up by invitation both start here.
pub(crate) async fn create_partner_with_master(
    tx: &DatabaseTransaction,
    m: &Mutation,
    rows: PartnerRows,
) -> Result<(Partner, User), AccountsError> {
    if store::username_taken(tx, &rows.master_username).await? {
        return Err(AccountsError::UsernameTaken);
    }
    let partner: Partner = partner::ActiveModel {
        partner_id: Set(rows.partner_id.to_string()),
        display_name: Set(rows.display_name),
        contact_email: Set(rows.contact_email.clone()),
        state: Set(PartnerState::Active.as_str().to_owned()),
        master_user_id: Set(rows.master_id.to_string()),
        suspend_reason: Set(None),
        created_at: Set(m.now),
        updated_at: Set(m.now),
        in_arrears: Set(false),
        enterprise_membership: Set(EnterpriseMembership::None.as_str().to_owned()),
        has_credit_account: Set(false),
    }
    .insert(tx)
    .await?
    .try_into()?;
    let master = insert_user(
        tx,
        rows.master_id,
        Some(rows.partner_id),
        &rows.master_username,
        &rows.master_username,
        &rows.contact_email,
        rows.password_hash,
        true,
        m.now,
    )
    .await?;
    let entry = AuditEntry {
        partner_id: Some(rows.partner_id),
        resource_id: rows.partner_id.to_string(),
        after: Some(partner.audit_summary()),
        ..AuditEntry::default()
    };
    audit::record(tx, m, entry).await?;
    outbox::append(tx, m, partner_event(&partner, "partner.registered")).await?;
    Ok((partner, master))
}

fn partner_event(p: &Partner, event_type: &'static str) -> Event {
    Event {
        partner_id: Some(p.id),
        event_type,
        resource_id: p.id.to_string(),
        payload: serde_json::json!({ "partner_id": p.id.to_string(), "state": p.state.as_str() }),
    }
}
