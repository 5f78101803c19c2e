//! Reading the audit trail. Records are written by every domain through
//! `partner_kernel::audit`; this module lists them, newest first, scoped to
//! the caller's partner unless the caller is the operator. A partner's trail
//! also holds what its own users did while acting for one of its resellers:
//! those records belong to the reseller, but the distributor made them.

mod store;
mod wire;

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::page::PageScope;
use partner_kernel::principal::Principal;

use crate::access as perm;
use crate::error::AccountsError;
use crate::service::{Accounts, Page, PageRequest};

/// Filters of an audit listing; `None` means any.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub partner_id: Option<PartnerId>,
    pub actor_user_id: Option<UserId>,
    pub method: Option<String>,
    pub resource_id: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
}

impl Accounts {
    /// Lists audit records: the operator any partner's (or all), a partner
    /// its own plus those its users made acting for its resellers (or, when
    /// it names its own id, only its own); another partner's id is NOT_FOUND.
    pub async fn list_audit_records(
        &self,
        p: &Principal,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<pb::AuditRecord>, AccountsError> {
        // For a partner listing without a partner filter: its own records
        // and its acting-for records.
        let mut own_and_acted_for = None;
        let tenant = if p.is_operator() {
            p.require(perm::PLATFORM_AUDIT_READ)?;
            "platform".to_owned()
        } else {
            let own = p.require_partner(perm::AUDIT_READ)?;
            match filter.partner_id {
                Some(asked) if asked != own => return Err(AccountsError::PartnerNotFound),
                Some(_) => {}
                None => own_and_acted_for = Some(own),
            }
            own.to_string()
        };
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        let scope = PageScope::new("ListAuditRecords", &tenant)
            .filter(
                "partner",
                filter.partner_id.map(|p| p.to_string()).unwrap_or_default(),
            )
            .filter(
                "actor",
                filter
                    .actor_user_id
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
            )
            .filter("method", text(&filter.method))
            .filter("resource", text(&filter.resource_id))
            .filter("start", time(filter.start_time))
            .filter("end", time(filter.end_time));
        let before = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;

        let rows = store::list(
            self.db().conn(),
            own_and_acted_for,
            &filter,
            before.as_deref(),
            page.size + 1,
        )
        .await?;
        Ok(self
            .paginate(rows, page.size, &scope, |m| m.id.clone())
            .try_map(|m| Ok(wire::to_proto(m)))?)
    }
}
