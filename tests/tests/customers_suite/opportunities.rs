//! Opportunities through the real server: routed by the platform (an
//! existing customer to its account team, a new one by the operator's
//! region → office table, falling back to the country, else unrouted),
//! accepted or rejected by the operator, won or lost by the partner.

use partner_api::customers::v1 as cu;
use partner_tests::*;
use tonic::Code;

fn submit(email: &str, country: &str, region: &str) -> cu::SubmitOpportunityRequest {
    cu::SubmitOpportunityRequest {
        request_id: new_request_id(),
        opportunity: Some(cu::Opportunity {
            customer_name: "Prospect Co.".into(),
            customer_email: email.into(),
            country: country.into(),
            region: region.into(),
            description: "data platform migration".into(),
            expected_amount: Some(partner_api::r#type::v1::Money {
                currency_code: "CNY".into(),
                units: 250_000,
                nanos: 0,
            }),
            ..Default::default()
        }),
    }
}

fn rule(country: &str, region: &str, office: &str) -> cu::SetRoutingRuleRequest {
    cu::SetRoutingRuleRequest {
        request_id: new_request_id(),
        rule: Some(cu::RoutingRule {
            country: country.into(),
            region: region.into(),
            office: office.into(),
            update_time: None,
        }),
    }
}

#[tokio::test]
async fn opportunities_are_routed_by_the_platform() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let ops = server.opportunities(&admin);
    ok(ops
        .clone()
        .set_routing_rule(rule("CN", "", "East China office"))
        .await);
    ok(ops
        .clone()
        .set_routing_rule(rule("CN", "Guangdong", "South China office"))
        .await);
    // Setting a rule again replaces it.
    ok(ops
        .clone()
        .set_routing_rule(rule("CN", "", "China office"))
        .await);
    let table = ok(ops
        .clone()
        .list_routing_rules(cu::ListRoutingRulesRequest::default())
        .await)
    .rules;
    let shape: Vec<(&str, &str, &str)> = table
        .iter()
        .map(|r| (r.country.as_str(), r.region.as_str(), r.office.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            ("CN", "", "China office"),
            ("CN", "Guangdong", "South China office")
        ]
    );
    // Partners do not maintain the table.
    assert_refused(
        server
            .opportunities(&master)
            .set_routing_rule(rule("CN", "", "mine"))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    let routed = |r: &cu::SubmitOpportunityResponse| {
        let o = r.opportunity.clone().unwrap_or_default();
        (o.routing, o.office)
    };
    let by_region = ok(server
        .opportunities(&master)
        .submit_opportunity(submit("cto@prospect.example", "CN", "Guangdong"))
        .await);
    assert_eq!(
        routed(&by_region),
        (
            cu::Routing::ByLocation as i32,
            "South China office".to_owned()
        )
    );
    let by_country = ok(server
        .opportunities(&master)
        .submit_opportunity(submit("cfo@prospect.example", "CN", "Sichuan"))
        .await);
    assert_eq!(
        routed(&by_country),
        (cu::Routing::ByLocation as i32, "China office".to_owned())
    );
    let nowhere = ok(server
        .opportunities(&master)
        .submit_opportunity(submit("ceo@prospect.example", "DE", "Bayern"))
        .await);
    assert_eq!(
        routed(&nowhere),
        (cu::Routing::Unrouted as i32, String::new())
    );
    // A prospect that is already a customer of the platform goes to its account team.
    let customer = server.create_customer(&master, &acme, "crm-1").await;
    let existing = ok(server
        .opportunities(&master)
        .submit_opportunity(submit(&customer.email, "CN", "Guangdong"))
        .await);
    assert_eq!(routed(&existing).0, cu::Routing::ExistingCustomer as i32);

    // The operator sees an office's opportunities; the partner only its own.
    let south = ok(server
        .opportunities(&admin)
        .list_opportunities(cu::ListOpportunitiesRequest {
            office: "South China office".into(),
            ..Default::default()
        })
        .await)
    .opportunities;
    assert_eq!(south.len(), 2);
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let theirs = ok(server
        .opportunities(&globex_master)
        .list_opportunities(cu::ListOpportunitiesRequest::default())
        .await)
    .opportunities;
    assert!(theirs.is_empty());
}

#[tokio::test]
async fn opportunities_move_through_their_states() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let id = |r: cu::SubmitOpportunityResponse| r.opportunity.unwrap_or_default().opportunity_id;
    let a = id(ok(server
        .opportunities(&master)
        .submit_opportunity(submit("a@prospect.example", "CN", ""))
        .await));
    let b = id(ok(server
        .opportunities(&master)
        .submit_opportunity(submit("b@prospect.example", "CN", ""))
        .await));
    // Won only once accepted; accepted only by the operator.
    assert_refused(
        server
            .opportunities(&master)
            .mark_opportunity_won(cu::MarkOpportunityWonRequest {
                request_id: new_request_id(),
                opportunity_id: a.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "OPPORTUNITY_STATE_CONFLICT",
    );
    assert_refused(
        server
            .opportunities(&master)
            .accept_opportunity(cu::AcceptOpportunityRequest {
                request_id: new_request_id(),
                opportunity_id: a.clone(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    ok(server
        .opportunities(&admin)
        .accept_opportunity(cu::AcceptOpportunityRequest {
            request_id: new_request_id(),
            opportunity_id: a.clone(),
        })
        .await);
    let rejected = ok(server
        .opportunities(&admin)
        .reject_opportunity(cu::RejectOpportunityRequest {
            request_id: new_request_id(),
            opportunity_id: b.clone(),
            reason: "already in the vendor's pipeline".into(),
        })
        .await)
    .opportunity
    .unwrap_or_default();
    assert_eq!(rejected.state, cu::OpportunityState::Rejected as i32);
    assert_eq!(rejected.reason, "already in the vendor's pipeline");
    // Another partner cannot close it.
    assert_refused(
        server
            .opportunities(&globex_master)
            .mark_opportunity_won(cu::MarkOpportunityWonRequest {
                request_id: new_request_id(),
                opportunity_id: a.clone(),
            })
            .await,
        Code::NotFound,
        "OPPORTUNITY_NOT_FOUND",
    );
    let won = ok(server
        .opportunities(&master)
        .mark_opportunity_won(cu::MarkOpportunityWonRequest {
            request_id: new_request_id(),
            opportunity_id: a.clone(),
        })
        .await)
    .opportunity
    .unwrap_or_default();
    assert_eq!(won.state, cu::OpportunityState::Won as i32);
    assert_refused(
        server
            .opportunities(&master)
            .mark_opportunity_lost(cu::MarkOpportunityLostRequest {
                request_id: new_request_id(),
                opportunity_id: a,
                reason: "changed my mind".into(),
            })
            .await,
        Code::FailedPrecondition,
        "OPPORTUNITY_STATE_CONFLICT",
    );
}
