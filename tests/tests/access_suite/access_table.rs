//! The access table (every domain's rules, assembled by the server) against the served API:
//! every RPC is declared exactly once, nothing is declared that is not served,
//! and what the table calls a write is what the API shape says is one.

use partner_kernel::access::Effect;
use partner_tests::*;
use prost::Message;
use prost_types::FileDescriptorSet;

#[test]
fn every_rpc_is_declared_exactly_once_and_nothing_else_is() {
    let served = every_rpc();
    let table = access_table();
    let undeclared: Vec<_> = served
        .iter()
        .filter(|m| table.rule_for(m).is_none())
        .collect();
    assert!(
        undeclared.is_empty(),
        "RPCs without an access rule: {undeclared:?}"
    );
    let phantom: Vec<_> = table
        .rules()
        .iter()
        .filter(|r| !served.iter().any(|m| m == r.method))
        .map(|r| r.method)
        .collect();
    assert!(phantom.is_empty(), "rules for RPCs not served: {phantom:?}");
    assert_eq!(served.len(), table.rules().len());
}

/// `package.Service/Method` → whether its request message has `request_id`.
fn takes_request_id() -> Vec<(String, bool)> {
    let set = FileDescriptorSet::decode(partner_api::FILE_DESCRIPTOR_SET)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut messages = std::collections::HashMap::new();
    for file in &set.file {
        for m in &file.message_type {
            let has = m.field.iter().any(|f| f.name() == "request_id");
            messages.insert(format!(".{}.{}", file.package(), m.name()), has);
        }
    }
    let mut out = Vec::new();
    for file in &set.file {
        if !file.package().starts_with("partner.") {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                let name = format!("{}.{}/{}", file.package(), service.name(), method.name());
                let has = messages.get(method.input_type()).copied().unwrap_or(false);
                out.push((name, has));
            }
        }
    }
    out
}

#[test]
fn writes_are_exactly_the_rpcs_that_take_a_request_id() {
    let table = access_table();
    for (method, has_request_id) in takes_request_id() {
        let rule = table
            .rule_for(&method)
            .unwrap_or_else(|| panic!("{method}: no rule"));
        assert_eq!(
            rule.effect == Effect::Write,
            has_request_id,
            "{method}: effect {:?} but request_id present = {has_request_id}",
            rule.effect
        );
    }
}

#[tokio::test]
async fn an_rpc_missing_from_the_table_is_refused_even_with_a_valid_token() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let status = server
        .call_empty("partner.accounts.v1.PartnerService/DropAllPartners", &admin)
        .await
        .err()
        .unwrap_or_else(|| panic!("an unknown method was served"));
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
    assert_eq!(reason_of(&status), "METHOD_NOT_FOUND");
    // Without a token the caller learns nothing more than "authenticate".
    let status = server
        .call_empty("partner.accounts.v1.PartnerService/DropAllPartners", "")
        .await
        .err()
        .unwrap_or_else(|| panic!("an unknown method was served"));
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
}
