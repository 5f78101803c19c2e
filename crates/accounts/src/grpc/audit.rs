//! `partner.accounts.v1.AuditService`.

use partner_api::accounts::v1::{self as pb, audit_service_server::AuditService};
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::time;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::AccountsApi;
use crate::audit_log::AuditFilter;
use crate::service::PageRequest;

#[tonic::async_trait]
impl AuditService for AccountsApi {
    async fn list_audit_records(
        &self,
        req: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListAuditRecordsRequest {
            page_size: size,
            page_token,
            actor_user_id,
            method,
            resource_id,
            start_time,
            end_time,
            partner_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(size));
        let mut filter = AuditFilter::default();
        if !partner_id.is_empty() {
            filter.partner_id = v.take("partner_id", PartnerId::parse(&partner_id));
        }
        if !actor_user_id.is_empty() {
            filter.actor_user_id = v.take("actor_user_id", UserId::parse(&actor_user_id));
        }
        filter.method = v.take("method", validate::filter(method, 128)).flatten();
        filter.resource_id = v
            .take("resource_id", validate::filter(resource_id, 64))
            .flatten();
        filter.start_time =
            start_time.and_then(|t| v.take("start_time", time::from_proto_timestamp(&t)));
        filter.end_time = end_time.and_then(|t| v.take("end_time", time::from_proto_timestamp(&t)));
        let size = v.finish_with(size)?;
        let page = self
            .accounts
            .list_audit_records(
                &principal,
                filter,
                PageRequest {
                    size,
                    token: page_token,
                },
            )
            .await?;
        Ok(Response::new(pb::ListAuditRecordsResponse {
            audit_records: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}
