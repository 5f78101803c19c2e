//! Acting for a reseller. A request names the partner whose data it touches
//! only through `reseller_id`; the caller's own partner comes from its token.
//! A distributor may act for a reseller only while its link is ACTIVE, and
//! every other case (a suspended link, another distributor's reseller, an
//! unknown id, a caller that is no distributor) is the same NOT_FOUND, so that
//! nothing about other partners' links leaks. Every domain that accepts
//! `reseller_id` (users now; customers and billing later) resolves it here.

use partner_kernel::ids::PartnerId;
use partner_kernel::permission::Permission;
use partner_kernel::principal::Principal;
use sea_orm::ConnectionTrait;

use crate::error::AccountsError;
use crate::resellers::{LinkState, store};
use crate::service::Accounts;

/// The partner a call acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant {
    /// The partner whose data the call reads or changes.
    pub partner_id: PartnerId,
    /// The caller's own partner, when it acts for a reseller (`partner_id`).
    pub distributor_id: Option<PartnerId>,
}

impl Tenant {
    /// The reseller acted for, for [`Mutation::acting_for`](partner_kernel::mutation::Mutation).
    pub fn acting_for(&self) -> Option<PartnerId> {
        self.distributor_id.map(|_| self.partner_id)
    }
}

impl Accounts {
    /// The tenant of a call: the caller's own partner when `reseller` is
    /// `None`, else that reseller if the caller holds `permission` and its
    /// partner has an ACTIVE link to it; otherwise `RESELLER_NOT_FOUND`.
    pub async fn resolve_tenant(
        &self,
        p: &Principal,
        permission: Permission,
        reseller: Option<PartnerId>,
    ) -> Result<Tenant, AccountsError> {
        let own = p.require_partner(permission)?;
        resolve_in(self.db().conn(), own, reseller).await
    }
}

/// [`Accounts::resolve_tenant`] for a caller of partner `own`, read through
/// `conn`. Writes call it again inside their transaction, where the link is
/// share-locked until the write commits (PostgreSQL): a suspension either
/// happened before and stops the write, or waits for it.
pub async fn resolve_in(
    conn: &impl ConnectionTrait,
    own: PartnerId,
    reseller: Option<PartnerId>,
) -> Result<Tenant, AccountsError> {
    let Some(reseller) = reseller else {
        return Ok(Tenant {
            partner_id: own,
            distributor_id: None,
        });
    };
    match store::link_for_share(conn, own, reseller).await? {
        Some(link) if link.state == LinkState::Active.as_str() => Ok(Tenant {
            partner_id: reseller,
            distributor_id: Some(own),
        }),
        Some(_) | None => Err(AccountsError::ResellerNotFound),
    }
}
