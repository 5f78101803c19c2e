//! Leads through the real server: a partner's own leads followed up and
//! converted or closed; the operator's leads dispatched to a partner, whose
//! contact is masked in every read path (get, list, events) for partners in
//! marketing programme 2.0, reached through brokered calls instead.

use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::events::v1 as ev;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

fn new_lead(phone: &str, email: &str) -> cu::CreateLeadRequest {
    cu::CreateLeadRequest {
        request_id: new_request_id(),
        lead: Some(cu::Lead {
            company_name: "Buyer Ltd".into(),
            contact_name: "Han Meimei".into(),
            phone: phone.into(),
            email: email.into(),
            description: "wants 20 VMs".into(),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn a_partners_lead_is_followed_up_and_converted() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let lead = ok(server
        .leads(&master)
        .create_lead(new_lead("+8613812345678", "han@buyer.example"))
        .await)
    .lead
    .unwrap_or_default();
    assert!(lead.lead_id.starts_with("led_"));
    assert_eq!(lead.state, cu::LeadState::New as i32);
    assert_eq!(lead.source, cu::LeadSource::Partner as i32);
    assert_eq!(lead.phone, "+8613812345678");
    let id = lead.lead_id.clone();

    let followed = ok(server
        .leads(&master)
        .add_follow_up(cu::AddFollowUpRequest {
            request_id: new_request_id(),
            lead_id: id.clone(),
            note: "called, sending a quote".into(),
        })
        .await);
    assert_eq!(
        followed.lead.unwrap_or_default().state,
        cu::LeadState::Following as i32
    );
    let read = ok(server
        .leads(&master)
        .get_lead(cu::GetLeadRequest {
            lead_id: id.clone(),
        })
        .await);
    assert_eq!(read.follow_ups.len(), 1);
    assert_eq!(read.follow_ups[0].note, "called, sending a quote");
    // Another partner sees nothing of it.
    assert_refused(
        server
            .leads(&globex_master)
            .get_lead(cu::GetLeadRequest {
                lead_id: id.clone(),
            })
            .await,
        Code::NotFound,
        "LEAD_NOT_FOUND",
    );
    // Converted to a customer of the partner (another partner's is unknown).
    let customer = server.create_customer(&master, &acme, "crm-lead").await;
    let converted = ok(server
        .leads(&master)
        .convert_lead(cu::ConvertLeadRequest {
            request_id: new_request_id(),
            lead_id: id.clone(),
            customer_id: customer.customer_id.clone(),
        })
        .await)
    .lead
    .unwrap_or_default();
    assert_eq!(converted.state, cu::LeadState::Converted as i32);
    assert_eq!(converted.customer_id, customer.customer_id);
    assert_refused(
        server
            .leads(&master)
            .close_lead(cu::CloseLeadRequest {
                request_id: new_request_id(),
                lead_id: id,
                reason: "too late".into(),
            })
            .await,
        Code::FailedPrecondition,
        "LEAD_STATE_CONFLICT",
    );
    // A lead needs a way to reach its contact.
    assert_refused(
        server.leads(&master).create_lead(new_lead("", "")).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
}

/// The events of the holder of `token` of `types`, once `expected` are there.
async fn events_of(
    server: &TestServer,
    token: &str,
    types: &[&str],
    expected: usize,
) -> Vec<ev::Event> {
    for _ in 0..200 {
        let got = ok(server
            .events(token)
            .list_events(ev::ListEventsRequest {
                event_types: types.iter().map(|t| (*t).to_owned()).collect(),
                page_size: 500,
                ..Default::default()
            })
            .await)
        .events;
        if got.len() >= expected {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("fewer than {expected} events");
}

#[tokio::test]
async fn dispatched_leads_are_masked_for_programme_partners_everywhere() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (plain, plain_master) = server.register_partner(&admin, "plain").await;
    ok(server
        .partners(&admin)
        .update_partner(pb::UpdatePartnerRequest {
            request_id: new_request_id(),
            partner: Some(pb::Partner {
                partner_id: acme.partner_id.clone(),
                marketing_programme_v2: true,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["marketing_programme_v2".into()],
            }),
        })
        .await);
    // The operator creates two leads and dispatches one to each partner.
    let mut ids = Vec::new();
    for partner in [&acme.partner_id, &plain.partner_id] {
        let lead = ok(server
            .leads(&admin)
            .create_lead(new_lead("+8613812345678", "han@buyer.example"))
            .await)
        .lead
        .unwrap_or_default();
        assert!(lead.partner_id.is_empty());
        let pool = ok(server
            .leads(&admin)
            .list_leads(cu::ListLeadsRequest {
                undispatched: true,
                ..Default::default()
            })
            .await);
        assert!(pool.leads.iter().any(|l| l.lead_id == lead.lead_id));
        let dispatched = ok(server
            .leads(&admin)
            .dispatch_lead(cu::DispatchLeadRequest {
                request_id: new_request_id(),
                lead_id: lead.lead_id.clone(),
                partner_id: partner.clone(),
            })
            .await)
        .lead
        .unwrap_or_default();
        assert_eq!(&dispatched.partner_id, partner);
        ids.push(lead.lead_id);
    }
    let masked_phone = "+86*******5678";
    let masked_email = "h***@buyer.example";
    // Get, list: masked for the programme partner, clear for the other.
    let got = ok(server
        .leads(&master)
        .get_lead(cu::GetLeadRequest {
            lead_id: ids[0].clone(),
        })
        .await)
    .lead
    .unwrap_or_default();
    assert_eq!(
        (got.phone.as_str(), got.email.as_str()),
        (masked_phone, masked_email)
    );
    assert!(got.contact_masked);
    let listed = ok(server
        .leads(&master)
        .list_leads(cu::ListLeadsRequest::default())
        .await)
    .leads;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].phone, masked_phone);
    assert_eq!(listed[0].email, masked_email);
    let clear = ok(server
        .leads(&plain_master)
        .get_lead(cu::GetLeadRequest {
            lead_id: ids[1].clone(),
        })
        .await)
    .lead
    .unwrap_or_default();
    assert_eq!(clear.phone, "+8613812345678");
    // Changing answers are masked too, and the vendor's contact is read-only.
    let followed = ok(server
        .leads(&master)
        .add_follow_up(cu::AddFollowUpRequest {
            request_id: new_request_id(),
            lead_id: ids[0].clone(),
            note: "asked for a call".into(),
        })
        .await)
    .lead
    .unwrap_or_default();
    assert_eq!(followed.phone, masked_phone);
    assert_refused(
        server
            .leads(&master)
            .update_lead(cu::UpdateLeadRequest {
                request_id: new_request_id(),
                lead: Some(cu::Lead {
                    lead_id: ids[0].clone(),
                    phone: "+8610000000".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["phone".into()],
                }),
            })
            .await,
        Code::FailedPrecondition,
        "LEAD_CONTACT_READ_ONLY",
    );
    // Events: the dispatch is announced to the partner, masked.
    let events = events_of(&server, &master, &["lead.dispatched"], 1).await;
    let payload = &events[0].payload_json;
    assert!(!payload.contains("13812345678"), "{payload}");
    assert!(!payload.contains("han@buyer.example"), "{payload}");
    assert!(payload.contains(masked_phone), "{payload}");
    // The audit trail the partner reads is masked as well.
    let records = ok(server
        .audit(&master)
        .list_audit_records(pb::ListAuditRecordsRequest {
            resource_id: ids[0].clone(),
            ..Default::default()
        })
        .await)
    .audit_records;
    assert!(!records.is_empty());
    for r in &records {
        let text = format!("{:?}{:?}", r.before, r.after);
        assert!(!text.contains("13812345678"), "{text}");
    }
    // The partner reaches the contact through a brokered call.
    let call = ok(server
        .leads(&master)
        .request_outbound_call(cu::RequestOutboundCallRequest {
            request_id: new_request_id(),
            lead_id: ids[0].clone(),
        })
        .await)
    .call
    .unwrap_or_default();
    assert!(call.call_id.starts_with("obc_"));
    assert_eq!(call.lead_id, ids[0]);
    // A lead is not dispatched to a partner that cannot work it.
    let spare = ok(server
        .leads(&admin)
        .create_lead(new_lead("+8613812345678", ""))
        .await)
    .lead
    .unwrap_or_default();
    ok(server
        .partners(&admin)
        .suspend_partner(pb::SuspendPartnerRequest {
            request_id: new_request_id(),
            partner_id: plain.partner_id.clone(),
            reason: "unpaid".into(),
        })
        .await);
    assert_refused(
        server
            .leads(&admin)
            .dispatch_lead(cu::DispatchLeadRequest {
                request_id: new_request_id(),
                lead_id: spare.lead_id.clone(),
                partner_id: plain.partner_id.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "PARTNER_STATE_CONFLICT",
    );
    // A dispatched lead cannot be dispatched again, nor by a partner.
    assert_refused(
        server
            .leads(&admin)
            .dispatch_lead(cu::DispatchLeadRequest {
                request_id: new_request_id(),
                lead_id: ids[0].clone(),
                partner_id: plain.partner_id.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "LEAD_STATE_CONFLICT",
    );
    assert_refused(
        server
            .leads(&master)
            .dispatch_lead(cu::DispatchLeadRequest {
                request_id: new_request_id(),
                lead_id: ids[0].clone(),
                partner_id: plain.partner_id.clone(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}
