//! Webhooks through the real server: endpoints, signed deliveries in event
//! order to a local receiver, retries with backoff (on a test clock), giving
//! up after a day, test events, redeliveries, the public-address guard, and
//! two server processes over one database never sending an attempt twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use partner_api::events::v1 as ev;
use partner_kernel::clock::{Clock, TestClock};
use partner_tests::webhook_receiver::{Received, Receiver};
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

fn create_request(url: &str, types: &[&str]) -> ev::CreateWebhookEndpointRequest {
    ev::CreateWebhookEndpointRequest {
        request_id: new_request_id(),
        url: url.to_owned(),
        description: "CRM sync".into(),
        event_types: types.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// A partner with an endpoint at `receiver` for `customer.created`: its
/// token, the endpoint and the endpoint's secret.
async fn partner_with_endpoint(
    server: &TestServer,
    name: &str,
    receiver: &Receiver,
) -> (
    partner_api::accounts::v1::Partner,
    String,
    ev::WebhookEndpoint,
    String,
) {
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let created = ok(server
        .webhooks(&master)
        .create_webhook_endpoint(create_request(&receiver.url, &["customer.created"]))
        .await);
    assert!(created.secret.starts_with("whsec_"), "{created:?}");
    (partner, master, created.endpoint.unwrap(), created.secret)
}

async fn deliveries(server: &TestServer, token: &str, endpoint: &str) -> Vec<ev::Delivery> {
    ok(server
        .webhooks(token)
        .list_deliveries(ev::ListDeliveriesRequest {
            endpoint_id: endpoint.to_owned(),
            page_size: 500,
            ..Default::default()
        })
        .await)
    .deliveries
}

/// Waits until the endpoint has `n` deliveries, each recorded as succeeded
/// (the record follows the receiver's answer by a moment).
async fn wait_succeeded(
    server: &TestServer,
    token: &str,
    endpoint: &str,
    n: usize,
) -> Vec<ev::Delivery> {
    for _ in 0..400 {
        let listed = deliveries(server, token, endpoint).await;
        let done = listed
            .iter()
            .filter(|d| d.status == ev::DeliveryStatus::Succeeded as i32)
            .count();
        if done >= n {
            return listed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} deliveries succeeded");
}

/// Waits until the endpoint's delivery `id` has made `attempts` attempts
/// and is no longer being sent.
async fn wait_attempts(
    server: &TestServer,
    token: &str,
    endpoint: &str,
    event_id: &str,
    attempts: i32,
) -> ev::Delivery {
    for _ in 0..600 {
        let found = deliveries(server, token, endpoint)
            .await
            .into_iter()
            .find(|d| d.event_id == event_id && !d.manual);
        if let Some(d) = found {
            let settled = d.status != ev::DeliveryStatus::Pending as i32
                || d.last_response_code != 0
                || !d.last_error.is_empty();
            if d.attempts >= attempts && settled {
                return d;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{event_id} never reached {attempts} attempts");
}

fn event_ids(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect()
}

/// The partner's `customer.created` events, once there are `n` (events are
/// numbered just after their transaction commits).
async fn customer_events(server: &TestServer, token: &str, n: usize) -> Vec<ev::Event> {
    for _ in 0..200 {
        let events = ok(server
            .events(token)
            .list_events(ev::ListEventsRequest {
                event_types: vec!["customer.created".into()],
                page_size: 500,
                ..Default::default()
            })
            .await)
        .events;
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} customer.created events");
}

#[tokio::test]
async fn events_arrive_signed_once_each_in_order() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let (partner, master, endpoint, secret) =
        partner_with_endpoint(&server, "hooked", &receiver).await;
    for n in 0..3 {
        server
            .create_customer(&master, &partner, &format!("crm-{n}"))
            .await;
    }
    let received = receiver.wait_for(3).await;
    let events = customer_events(&server, &master, 3).await;
    let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(event_ids(&received), ids, "in event order, once each");
    for (r, e) in received.iter().zip(&events) {
        assert!(r.signed_by(&secret), "{r:?}");
        assert!(!r.signed_by("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        let body = r.json();
        assert_eq!(body["type"], "customer.created");
        assert_eq!(body["data"]["event_id"], e.event_id.as_str());
        assert_eq!(body["data"]["cursor"], e.cursor.as_str());
        assert_eq!(body["data"]["resource_id"], e.resource_id.as_str());
        let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
        assert!((ts - chrono::Utc::now().timestamp()).abs() < 60);
        assert_eq!(r.header("content-type"), "application/json");
    }
    // Other event types do not go to it (the partner's registration did not).
    assert!(
        received
            .iter()
            .all(|r| r.json()["type"] == "customer.created")
    );
    let listed = wait_succeeded(&server, &master, &endpoint.id, 3).await;
    assert_eq!(listed.len(), 3);
    for d in &listed {
        assert_eq!(d.status, ev::DeliveryStatus::Succeeded as i32, "{d:?}");
        assert_eq!((d.attempts, d.last_response_code), (1, 200));
        assert_eq!(d.last_response_excerpt, "answer 200");
        assert!(d.deliver_time.is_some());
    }
    let moved = ok(server
        .webhooks(&master)
        .get_webhook_endpoint(ev::GetWebhookEndpointRequest {
            id: endpoint.id.clone(),
        })
        .await)
    .endpoint
    .unwrap();
    assert!(moved.cursor.parse::<i64>().unwrap() >= events[2].cursor.parse::<i64>().unwrap());
}

#[tokio::test]
async fn the_secret_is_shown_once_and_a_replay_makes_no_second_endpoint() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "once").await;
    let req = create_request("https://hooks.example.com/a", &[]);
    let first = ok(server
        .webhooks(&master)
        .create_webhook_endpoint(req.clone())
        .await);
    let replay = ok(server.webhooks(&master).create_webhook_endpoint(req).await);
    assert!(first.secret.starts_with("whsec_"));
    assert_eq!(replay.secret, "", "a replay does not show the secret again");
    assert_eq!(replay.endpoint, first.endpoint);
    let listed = ok(server
        .webhooks(&master)
        .list_webhook_endpoints(ev::ListWebhookEndpointsRequest {})
        .await)
    .endpoints;
    assert_eq!(listed.len(), 1);
    assert_eq!(server.rows("webhook_endpoints").await, 1);
    // The secret is not in the audit log or the stored answer.
    let audit = ok(server
        .audit(&admin)
        .list_audit_records(partner_api::accounts::v1::ListAuditRecordsRequest {
            method: "partner.events.v1.WebhookService/CreateWebhookEndpoint".into(),
            ..Default::default()
        })
        .await);
    assert!(!format!("{audit:?}").contains(&first.secret));
}

fn rotate(id: &str, ttl_seconds: Option<i64>) -> ev::RotateWebhookSecretRequest {
    ev::RotateWebhookSecretRequest {
        request_id: new_request_id(),
        id: id.to_owned(),
        previous_secret_ttl: ttl_seconds.map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
    }
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_until_it_expires() {
    let clock = Arc::new(TestClock::new(chrono::Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let receiver = Receiver::start().await;
    let (partner, master, endpoint, old) =
        partner_with_endpoint(&server, "rotator", &receiver).await;
    for bad in [Some(-1), Some(7 * 86_400 + 1)] {
        assert_refused(
            server
                .webhooks(&master)
                .rotate_webhook_secret(rotate(&endpoint.id, bad))
                .await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
    }
    // Ten minutes of overlap: deliveries carry a signature by each.
    let req = rotate(&endpoint.id, Some(600));
    let rotated = ok(server
        .webhooks(&master)
        .rotate_webhook_secret(req.clone())
        .await);
    let new = rotated.secret.clone();
    assert!(new.starts_with("whsec_") && new != old, "{rotated:?}");
    let until = rotated
        .endpoint
        .as_ref()
        .and_then(|e| e.previous_secret_expire_time)
        .unwrap();
    assert_eq!(until.seconds, clock.now().timestamp() + 600);
    // A replay answers the same endpoint without the secret, and rotates nothing.
    let replay = ok(server.webhooks(&master).rotate_webhook_secret(req).await);
    assert_eq!(replay.secret, "");
    assert_eq!(replay.endpoint, rotated.endpoint);
    server.create_customer(&master, &partner, "crm-1").await;
    let first = receiver.wait_for(1).await;
    assert!(
        first[0].signed_by(&old) && first[0].signed_by(&new),
        "{first:?}"
    );

    // Past the overlap only the new secret signs.
    clock.advance(chrono::Duration::minutes(11));
    server.create_customer(&master, &partner, "crm-2").await;
    let second = receiver.wait_for(2).await;
    assert!(
        second[1].signed_by(&new) && !second[1].signed_by(&old),
        "{second:?}"
    );

    // No overlap: the newest alone signs at once, and nothing is rotating.
    let newest = ok(server
        .webhooks(&master)
        .rotate_webhook_secret(rotate(&endpoint.id, Some(0)))
        .await);
    assert_eq!(
        newest
            .endpoint
            .as_ref()
            .and_then(|e| e.previous_secret_expire_time),
        None
    );
    server.create_customer(&master, &partner, "crm-3").await;
    let third = receiver.wait_for(3).await;
    assert!(third[2].signed_by(&newest.secret), "{third:?}");
    assert!(!third[2].signed_by(&new) && !third[2].signed_by(&old));
    // Neither secret is in the audit log.
    let admin = server.admin_token().await;
    let audit = ok(server
        .audit(&admin)
        .list_audit_records(partner_api::accounts::v1::ListAuditRecordsRequest {
            method: "partner.events.v1.WebhookService/RotateWebhookSecret".into(),
            ..Default::default()
        })
        .await);
    assert_eq!(audit.audit_records.len(), 2, "{audit:?}");
    let logged = format!("{audit:?}");
    assert!(!logged.contains(&new) && !logged.contains(&newest.secret));
}

#[tokio::test]
async fn concurrent_rotations_follow_one_another() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let (partner, master, endpoint, _) = partner_with_endpoint(&server, "racing", &receiver).await;
    let calls = (0..24).map(|_| {
        let mut hooks = server.webhooks(&master);
        let req = rotate(&endpoint.id, Some(600));
        async move { hooks.rotate_webhook_secret(req).await }
    });
    let secrets: Vec<String> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| ok(r).secret)
        .collect();
    // Each rotation replaced the one before it: the last two made sign, and
    // no secret handed out was replaced unseen.
    server.create_customer(&master, &partner, "crm-1").await;
    let received = receiver.wait_for(1).await;
    let signing = secrets.iter().filter(|s| received[0].signed_by(s)).count();
    assert_eq!(signing, 2, "{received:?}");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_backoff_and_later_events_wait_for_it() {
    let clock = Arc::new(TestClock::new(chrono::Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500, 503]);
    let (partner, master, endpoint, secret) =
        partner_with_endpoint(&server, "flaky", &receiver).await;
    server.create_customer(&master, &partner, "crm-a").await;
    server.create_customer(&master, &partner, "crm-b").await;
    let events = customer_events(&server, &master, 2).await;
    let (a, b) = (&events[0].event_id, &events[1].event_id);

    let first = wait_attempts(&server, &master, &endpoint.id, a, 1).await;
    assert_eq!(first.status, ev::DeliveryStatus::Pending as i32);
    assert_eq!(first.last_response_code, 500);
    assert_eq!(first.last_error, "answered 500 Internal Server Error");
    let next = first.next_attempt_time.unwrap().seconds;
    assert_eq!(next - clock.now().timestamp(), 10, "first retry after 10 s");
    // B waits behind A: the order holds.
    assert_eq!(event_ids(&receiver.received()), vec![a.clone()]);

    clock.advance(chrono::Duration::seconds(11));
    let second = wait_attempts(&server, &master, &endpoint.id, a, 2).await;
    assert_eq!(second.last_response_code, 503);
    let next = second.next_attempt_time.unwrap().seconds;
    assert_eq!(next - clock.now().timestamp(), 20, "then twice as long");
    assert_eq!(receiver.received().len(), 2);

    clock.advance(chrono::Duration::seconds(21));
    let received = receiver.wait_for(4).await;
    assert_eq!(
        event_ids(&received),
        vec![a.clone(), a.clone(), a.clone(), b.clone()]
    );
    assert!(received.iter().all(|r| r.signed_by(&secret)));
    // Each attempt is signed at its own time.
    assert_ne!(
        received[0].header("webhook-timestamp"),
        received[2].header("webhook-timestamp")
    );
    let done = wait_attempts(&server, &master, &endpoint.id, a, 3).await;
    assert_eq!(done.status, ev::DeliveryStatus::Succeeded as i32);
    assert_eq!(done.last_error, "");
}

#[tokio::test]
async fn a_delivery_failing_for_a_day_is_given_up_and_the_next_goes() {
    let clock = Arc::new(TestClock::new(chrono::Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500; 40]);
    let (partner, master, endpoint, _) = partner_with_endpoint(&server, "down", &receiver).await;
    server.create_customer(&master, &partner, "crm-a").await;
    let a = customer_events(&server, &master, 1).await[0]
        .event_id
        .clone();
    let mut attempts = 1;
    let given_up = loop {
        // The access token would expire as the day passes.
        let master = server.login("down", USER_PASSWORD).await;
        let d = wait_attempts(&server, &master, &endpoint.id, &a, attempts).await;
        if d.status == ev::DeliveryStatus::Failed as i32 {
            break d;
        }
        assert!(attempts < 30, "never gave up: {d:?}");
        let due = d.next_attempt_time.unwrap().seconds + 1;
        clock.set(chrono::DateTime::from_timestamp(due, 0).unwrap());
        attempts += 1;
    };
    assert!((10..=20).contains(&given_up.attempts), "{given_up:?}");
    assert_eq!(given_up.next_attempt_time, None);
    // The queue moves on.
    let master = server.login("down", USER_PASSWORD).await;
    let sent_before = receiver.received().len();
    server.create_customer(&master, &partner, "crm-b").await;
    let b = customer_events(&server, &master, 2).await[1]
        .event_id
        .clone();
    let received = receiver.wait_for(sent_before + 1).await;
    assert_eq!(received.last().unwrap().header("webhook-id"), b);
}

#[tokio::test]
async fn test_events_and_redeliveries_are_queued_behind_the_rest() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let (partner, master, endpoint, secret) =
        partner_with_endpoint(&server, "manual", &receiver).await;
    server.create_customer(&master, &partner, "crm-a").await;
    receiver.wait_for(1).await;
    let event = customer_events(&server, &master, 1).await[0].clone();

    let test = ok(server
        .webhooks(&master)
        .send_test_event(ev::SendTestEventRequest {
            request_id: new_request_id(),
            endpoint_id: endpoint.id.clone(),
        })
        .await)
    .delivery
    .unwrap();
    assert!(test.manual && test.event_id.starts_with("msg_"), "{test:?}");
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].json()["type"], "webhook.test");
    assert_eq!(received[1].header("webhook-id"), test.event_id);
    assert!(received[1].signed_by(&secret));

    let again = ok(server
        .webhooks(&master)
        .redeliver_event(ev::RedeliverEventRequest {
            request_id: new_request_id(),
            endpoint_id: endpoint.id.clone(),
            event_id: event.event_id.clone(),
        })
        .await)
    .delivery
    .unwrap();
    assert!(again.manual);
    let received = receiver.wait_for(3).await;
    // The same webhook-id and body: receivers deduplicating by id see a repeat.
    assert_eq!(received[2].header("webhook-id"), event.event_id);
    assert_eq!(received[2].body, received[0].body);

    // Only deliveries in a status, newest first (once the redelivery's
    // answer is recorded, just after the receiver sent it).
    wait_succeeded(&server, &master, &endpoint.id, 3).await;
    let succeeded = ok(server
        .webhooks(&master)
        .list_deliveries(ev::ListDeliveriesRequest {
            endpoint_id: endpoint.id.clone(),
            status: ev::DeliveryStatus::Succeeded as i32,
            page_size: 2,
            ..Default::default()
        })
        .await);
    assert_eq!(succeeded.deliveries.len(), 2);
    assert_eq!(succeeded.deliveries[0].id, again.id);
    assert!(!succeeded.next_page_token.is_empty());

    // An event of a type the endpoint does not receive, or none of the partner's.
    let admin = server.admin_token().await;
    let others = ok(server
        .events(&master)
        .list_events(ev::ListEventsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await)
    .events;
    let other_type = others
        .iter()
        .find(|e| e.event_type != "customer.created")
        .map(|e| e.event_id.clone());
    if let Some(other_type) = other_type {
        assert_refused(
            server
                .webhooks(&master)
                .redeliver_event(ev::RedeliverEventRequest {
                    request_id: new_request_id(),
                    endpoint_id: endpoint.id.clone(),
                    event_id: other_type,
                })
                .await,
            Code::NotFound,
            "EVENT_NOT_FOUND",
        );
    }
    let (stranger_partner, stranger) = server.register_partner(&admin, "stranger").await;
    server
        .create_customer(&stranger, &stranger_partner, "crm-x")
        .await;
    let theirs = customer_events(&server, &stranger, 1).await[0]
        .event_id
        .clone();
    assert_refused(
        server
            .webhooks(&master)
            .redeliver_event(ev::RedeliverEventRequest {
                request_id: new_request_id(),
                endpoint_id: endpoint.id.clone(),
                event_id: theirs,
            })
            .await,
        Code::NotFound,
        "EVENT_NOT_FOUND",
    );
}

#[tokio::test]
async fn another_partners_endpoint_is_not_found() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let (_, _, endpoint, _) = partner_with_endpoint(&server, "owner", &receiver).await;
    let admin = server.admin_token().await;
    let (_, other) = server.register_partner(&admin, "intruder").await;
    let client = || server.webhooks(&other);
    let id = endpoint.id.clone();
    assert_refused(
        client()
            .get_webhook_endpoint(ev::GetWebhookEndpointRequest { id: id.clone() })
            .await,
        Code::NotFound,
        "WEBHOOK_ENDPOINT_NOT_FOUND",
    );
    assert_refused(
        client()
            .update_webhook_endpoint(ev::UpdateWebhookEndpointRequest {
                request_id: new_request_id(),
                id: id.clone(),
                url: "https://evil.example.com/".into(),
                update_mask: Some(FieldMask {
                    paths: vec!["url".into()],
                }),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "WEBHOOK_ENDPOINT_NOT_FOUND",
    );
    assert_refused(
        client()
            .delete_webhook_endpoint(ev::DeleteWebhookEndpointRequest {
                request_id: new_request_id(),
                id: id.clone(),
            })
            .await,
        Code::NotFound,
        "WEBHOOK_ENDPOINT_NOT_FOUND",
    );
    assert_refused(
        client()
            .send_test_event(ev::SendTestEventRequest {
                request_id: new_request_id(),
                endpoint_id: id.clone(),
            })
            .await,
        Code::NotFound,
        "WEBHOOK_ENDPOINT_NOT_FOUND",
    );
    assert_refused(
        client()
            .list_deliveries(ev::ListDeliveriesRequest {
                endpoint_id: id.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "WEBHOOK_ENDPOINT_NOT_FOUND",
    );
    let listed = ok(client()
        .list_webhook_endpoints(ev::ListWebhookEndpointsRequest {})
        .await);
    assert!(listed.endpoints.is_empty());
}

#[tokio::test]
async fn endpoints_change_pause_and_go() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let (partner, master, endpoint, _) = partner_with_endpoint(&server, "pausing", &receiver).await;
    let update = |paths: &[&str], disabled: bool| ev::UpdateWebhookEndpointRequest {
        request_id: new_request_id(),
        id: endpoint.id.clone(),
        disabled,
        description: "paused".into(),
        update_mask: Some(FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
        ..Default::default()
    };
    let paused = ok(server
        .webhooks(&master)
        .update_webhook_endpoint(update(&["disabled", "description"], true))
        .await)
    .endpoint
    .unwrap();
    assert!(paused.disabled);
    assert_eq!(paused.description, "paused");
    server.create_customer(&master, &partner, "crm-a").await;
    // Enabled again, it receives what happened meanwhile.
    ok(server
        .webhooks(&master)
        .update_webhook_endpoint(update(&["disabled"], false))
        .await);
    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    // Event types the caller may not read are refused.
    let mut bad = create_request("https://hooks.example.com/x", &["access_key.created"]);
    bad.event_types.push("no.such".into());
    let status = assert_refused(
        server.webhooks(&master).create_webhook_endpoint(bad).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert!(
        format!("{status:?}").contains("event_types[1]"),
        "{status:?}"
    );
    // Deleted, its deliveries go with it.
    ok(server
        .webhooks(&master)
        .delete_webhook_endpoint(ev::DeleteWebhookEndpointRequest {
            request_id: new_request_id(),
            id: endpoint.id.clone(),
        })
        .await);
    assert_eq!(server.rows("webhook_deliveries").await, 0);
}

#[tokio::test]
async fn a_partner_has_at_most_twenty_endpoints_even_when_racing() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "many").await;
    let calls = (0..30).map(|n| {
        let client = server.webhooks(&master);
        async move {
            let mut client = client;
            client
                .create_webhook_endpoint(create_request(
                    &format!("https://hooks.example.com/{n}"),
                    &[],
                ))
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let made = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, 20);
    for r in results.into_iter().filter(Result::is_err) {
        assert_refused(r, Code::ResourceExhausted, "WEBHOOK_ENDPOINT_LIMIT");
    }
    assert_eq!(server.rows("webhook_endpoints").await, 20);
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let db = TestDb::fresh().await;
    let server = TestServer::start_on(db, |c| c.webhook_allow_private = false).await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "strict").await;
    for url in [
        "http://hooks.example.com/",
        "https://127.0.0.1/",
        "https://localhost:8443/",
        "https://10.0.0.8/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/",
        "https://[fd00::1]/",
        "https://0x7f000001/",
        "https://user:pw@hooks.example.com/",
    ] {
        let status = assert_refused(
            server
                .webhooks(&master)
                .create_webhook_endpoint(create_request(url, &[]))
                .await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
        assert!(format!("{status:?}").contains("url"), "{url}: {status:?}");
    }
    ok(server
        .webhooks(&master)
        .create_webhook_endpoint(create_request("https://hooks.example.com/in", &[]))
        .await);
}

/// The environment variable that makes [`replica_process`] serve.
const REPLICA_DB: &str = "WEBHOOK_REPLICA_DB";

/// The second server process of
/// [`two_server_processes_on_one_database_send_each_event_once_in_order`]:
/// the parent runs this test binary again with only this test, which serves
/// the parent's database until the parent closes its stdin. Alone (without
/// the variable) it does nothing.
#[tokio::test]
#[ignore = "the second process of two_server_processes_…; run by it"]
async fn replica_process() {
    let Ok(url) = std::env::var(REPLICA_DB) else {
        return;
    };
    let server = TestServer::start_on(TestDb::borrowed(url), |_| {}).await;
    println!("REPLICA_LISTENING {}", server.addr);
    // Blocks until the parent closes the pipe (or exits).
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await;
    let _ = server.stop().await;
}

/// Starts [`replica_process`] over the database at `url` and waits until
/// it serves.
fn start_replica(url: String) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    // A test's name is its path within the test binary (`webhooks::replica_process`).
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    let test_name = format!("{module}::replica_process");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test_name, "--ignored", "--nocapture"])
        .env(REPLICA_DB, url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("REPLICA_LISTENING ") {
            // Read the rest, so the replica's last words never meet a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, addr.trim().parse().unwrap());
        }
    }
    let status = child.wait();
    panic!("the replica process ended before serving: {status:?}");
}

#[tokio::test]
async fn two_server_processes_on_one_database_send_each_event_once_in_order() {
    let db = TestDb::fresh().await;
    let url = db.url.clone();
    let (mut replica, replica_addr) = tokio::task::spawn_blocking(move || start_replica(url))
        .await
        .unwrap();
    let a = TestServer::start_on(db.clone(), |_| {}).await;
    let b = TestServer::remote(replica_addr, db);
    let receiver = Receiver::start().await;
    // A slow receiver keeps sends in flight while the other process looks for work.
    receiver.answer_slowly(std::time::Duration::from_millis(30));
    let (partner, master, endpoint, _) = partner_with_endpoint(&a, "replicated", &receiver).await;
    // Customers created through both processes: both workers are woken.
    let master_b = b.login("replicated", USER_PASSWORD).await;
    for n in 0..24 {
        let (server, token) = if n % 2 == 0 {
            (&a, &master)
        } else {
            (&b, &master_b)
        };
        server
            .create_customer(token, &partner, &format!("crm-{n}"))
            .await;
    }
    let expected: Vec<String> = customer_events(&a, &master, 24)
        .await
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(expected.len(), 24);
    receiver.wait_for(24).await;
    // Every delivery recorded as done before the count is read.
    wait_succeeded(&a, &master, &endpoint.id, 24).await;
    let got = event_ids(&receiver.received());
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "sent twice: {got:?}");
    assert_eq!(got, expected, "in event order");
    let listed = deliveries(&b, &master_b, &endpoint.id).await;
    assert_eq!(listed.len(), 24);
    assert!(listed.iter().all(|d| d.attempts == 1), "{listed:?}");
    drop(replica.stdin.take());
    let status = tokio::task::spawn_blocking(move || replica.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the replica process failed: {status}");
}
