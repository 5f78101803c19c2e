//! `partner.accounts.v1.AuditService`.

use partner_api::accounts::v1::{self as pb, audit_service_server::AuditService};
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::ids::{PartnerId, UserId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::time;
use partner_kernel::validate::{self, Violations};
use prost_types::value::Kind;
use tonic::{Request, Response, Status};

use super::AccountsApi;
use crate::audit_log::AuditFilter;
use crate::service::PageRequest;
use partner_kernel::entity::audit_record;

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
            audit_records: page.items.into_iter().map(to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}

fn to_proto(m: audit_record::Model) -> pb::AuditRecord {
    pb::AuditRecord {
        audit_record_id: m.id,
        partner_id: m.partner_id.unwrap_or_default(),
        actor_user_id: m.actor_user_id,
        actor_partner_id: m.actor_partner_id.unwrap_or_default(),
        method: m.method,
        resource_id: m.resource_id,
        request_id: m.request_id.map(|r| r.to_string()).unwrap_or_default(),
        reason: m.reason.unwrap_or_default(),
        before: m.before.and_then(to_struct),
        after: m.after.and_then(to_struct),
        create_time: Some(to_proto_timestamp(m.created_at)),
        acting_for_partner_id: m.acting_for_partner_id.unwrap_or_default(),
        occurrences: m.occurrences,
        last_occurrence_time: m.last_time.map(to_proto_timestamp),
    }
}

/// A JSON object as a `google.protobuf.Struct`; summaries are always objects.
fn to_struct(json: serde_json::Value) -> Option<prost_types::Struct> {
    match to_value(json).kind {
        Some(Kind::StructValue(s)) => Some(s),
        _ => None,
    }
}

fn to_value(json: serde_json::Value) -> prost_types::Value {
    use serde_json::Value as J;
    let kind = match json {
        J::Null => Kind::NullValue(0),
        J::Bool(b) => Kind::BoolValue(b),
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        J::String(s) => Kind::StringValue(s),
        J::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(to_value).collect(),
        }),
        J::Object(map) => Kind::StructValue(prost_types::Struct {
            fields: map.into_iter().map(|(k, v)| (k, to_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_become_structs() {
        let s = to_struct(serde_json::json!({"a": 1, "b": [true, null], "c": {"d": "e"}}))
            .unwrap_or_else(|| panic!("not a struct"));
        assert_eq!(s.fields.len(), 3);
        assert_eq!(
            s.fields.get("a").and_then(|v| v.kind.clone()),
            Some(Kind::NumberValue(1.0))
        );
        assert!(to_struct(serde_json::json!("scalar")).is_none());
    }
}
