//! The wire form of audit records: their summaries are JSON objects, shown
//! as `google.protobuf.Struct`.

use partner_api::accounts::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::entity::audit_record;
use prost_types::value::Kind;

pub(super) fn to_proto(m: audit_record::Model) -> pb::AuditRecord {
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
        actor_customer_id: m.actor_customer_id.unwrap_or_default(),
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
