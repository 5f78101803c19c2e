//! Tier-1 distributor ↔ tier-2 reseller links: list, suspend, restore. Links
//! are made when a reseller accepts a distributor's RESELLER invitation
//! (`enrol.rs`); acting for a reseller is decided in `tenant.rs`.

pub mod store;

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::PartnerId;
use partner_kernel::mutation::Mutation;
use partner_kernel::page::PageScope;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};

use crate::access as perm;
use crate::entity::reseller_link;
use crate::error::AccountsError;
use crate::service::{Accounts, Page, PageRequest};
use partner_kernel::ids::parse_stored;

/// Whether a distributor may act for a reseller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Active,
    Suspended,
}

impl LinkState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
        }
    }

    fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "ACTIVE" => Ok(Self::Active),
            "SUSPENDED" => Ok(Self::Suspended),
            other => Err(KernelError::Corrupt(format!(
                "reseller link state {other:?}"
            ))),
        }
    }

    fn to_proto(self) -> pb::ResellerLinkState {
        match self {
            Self::Active => pb::ResellerLinkState::Active,
            Self::Suspended => pb::ResellerLinkState::Suspended,
        }
    }
}

/// One link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResellerLink {
    pub distributor_id: PartnerId,
    pub reseller_id: PartnerId,
    pub state: LinkState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<reseller_link::Model> for ResellerLink {
    type Error = KernelError;
    fn try_from(m: reseller_link::Model) -> Result<Self, KernelError> {
        Ok(Self {
            distributor_id: parse_stored(&m.distributor_id, PartnerId::parse)?,
            reseller_id: parse_stored(&m.reseller_id, PartnerId::parse)?,
            state: LinkState::parse(&m.state)?,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl ResellerLink {
    /// The wire form, with the reseller's display name.
    pub fn to_proto(&self, display_name: String) -> pb::Reseller {
        pb::Reseller {
            reseller_id: self.reseller_id.to_string(),
            display_name,
            distributor_id: self.distributor_id.to_string(),
            state: self.state.to_proto().into(),
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }

    fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "distributor_id": self.distributor_id.to_string(),
            "reseller_id": self.reseller_id.to_string(),
            "state": self.state.as_str(),
        })
    }
}

impl Accounts {
    /// The distributor a reseller is actively linked to, for other domains
    /// (a distributor's contract covers its resellers' customers).
    pub async fn distributor_of(
        &self,
        reseller: PartnerId,
    ) -> Result<Option<PartnerId>, AccountsError> {
        let Some(link) = store::link_of_reseller(self.db().conn(), reseller).await? else {
            return Ok(None);
        };
        if LinkState::parse(&link.state)? != LinkState::Active {
            return Ok(None);
        }
        Ok(Some(parse_stored(&link.distributor_id, PartnerId::parse)?))
    }

    /// Lists a distributor's resellers: a partner its own, the operator the
    /// one it names; a partner naming another is NOT_FOUND.
    pub async fn list_resellers(
        &self,
        p: &Principal,
        distributor: Option<PartnerId>,
        page: PageRequest,
    ) -> Result<Page<pb::Reseller>, AccountsError> {
        let (distributor, tenant) = if p.is_operator() {
            p.require(perm::PLATFORM_RESELLERS_READ)?;
            let named = distributor.ok_or_else(|| {
                KernelError::Invalid(vec![FieldViolation::new(
                    "distributor_id",
                    "required for the operator",
                )])
            })?;
            (named, "platform".to_owned())
        } else {
            let own = p.require_partner(perm::RESELLERS_READ)?;
            if distributor.is_some_and(|asked| asked != own) {
                return Err(AccountsError::PartnerNotFound);
            }
            (own, own.to_string())
        };
        let scope = PageScope::new("ListResellers", &tenant).filter("distributor", distributor);
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows = store::list_links(
            self.db().conn(),
            distributor,
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        let page = self.paginate(rows, page.size, &scope, |m| m.reseller_id.clone());
        let ids = page.items.iter().map(|l| l.reseller_id.clone()).collect();
        let names = store::partner_names(self.db().conn(), ids).await?;
        page.try_map(|row| {
            let name = names.get(&row.reseller_id).cloned().unwrap_or_default();
            Ok(ResellerLink::try_from(row)?.to_proto(name))
        })
        .map_err(AccountsError::from)
    }

    /// Suspends (or restores) the caller distributor's link to `reseller`.
    pub async fn set_reseller_suspended(
        &self,
        m: Mutation,
        reseller: PartnerId,
        suspend: bool,
        reason: String,
    ) -> Result<pb::Reseller, AccountsError> {
        let distributor = m.principal.require_partner(perm::RESELLERS_MANAGE)?;
        let (from, to, event_type) = if suspend {
            (
                LinkState::Active,
                LinkState::Suspended,
                "reseller.suspended",
            )
        } else {
            (LinkState::Suspended, LinkState::Active, "reseller.restored")
        };
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before: ResellerLink = store::link(tx, distributor, reseller)
                    .await?
                    .ok_or(AccountsError::ResellerNotFound)?
                    .try_into()?;
                if before.state != from {
                    return Err(AccountsError::ResellerStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let after: ResellerLink = store::set_link_state(tx, distributor, reseller, to, now)
                    .await?
                    .ok_or(AccountsError::ResellerNotFound)?
                    .try_into()?;
                let change = Change::of(Some(distributor), reseller)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce(event_type);
                let name = store::partner_names(tx, vec![reseller.to_string()])
                    .await?
                    .remove(&reseller.to_string())
                    .unwrap_or_default();
                Ok(Outcome::new(after.to_proto(name), change))
            })
        })
        .await
    }
}
