//! The event stream through the real server: a partner lists and watches the
//! events of its own data only, in the order they became visible; a watcher
//! that reconnects with its last cursor misses nothing and sees nothing
//! twice, across a disconnect and a server restart.

use std::time::Duration;

use partner_api::customers::v1 as cu;
use partner_api::events::v1 as ev;
use partner_tests::*;
use tonic::Code;

fn events(
    server: &TestServer,
    token: &str,
) -> partner_api::events::v1::event_service_client::EventServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
> {
    server.events(token)
}

/// Every event of the caller after `cursor`, read with ListEvents in pages
/// of `size`, once the sequencer has numbered `expected` of them (it runs
/// right after each write; this waits for it without sleeping blindly).
async fn all_after(
    server: &TestServer,
    token: &str,
    cursor: &str,
    types: &[&str],
    expected: usize,
) -> Vec<ev::Event> {
    for _ in 0..200 {
        let mut out = Vec::new();
        let mut cursor = cursor.to_owned();
        loop {
            let page = ok(events(server, token)
                .list_events(ev::ListEventsRequest {
                    cursor: cursor.clone(),
                    page_size: 2,
                    event_types: types.iter().map(|t| (*t).to_owned()).collect(),
                    resource_id: String::new(),
                })
                .await);
            if page.events.is_empty() {
                assert_eq!(page.next_cursor, cursor);
                break;
            }
            cursor = page.next_cursor.clone();
            out.extend(page.events);
        }
        if out.len() >= expected {
            return out;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {expected} events were ever listed");
}

async fn freeze(server: &TestServer, token: &str, id: &str) {
    ok(server
        .customers(token)
        .freeze_customers(cu::FreezeCustomersRequest {
            request_id: new_request_id(),
            customer_ids: vec![id.into()],
            mode: cu::FreezeMode::Account as i32,
            reason: "overdue".into(),
            reseller_id: String::new(),
        })
        .await);
}

#[tokio::test]
async fn partners_list_their_own_events_in_order() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (globex, globex_master) = server.register_partner(&admin, "globex").await;
    let c1 = server.create_customer(&master, &acme, "crm-1").await;
    let c2 = server.create_customer(&master, &acme, "crm-2").await;
    freeze(&server, &master, &c1.customer_id).await;
    server
        .create_customer(&globex_master, &globex, "crm-9")
        .await;

    let types = ["customer.created", "customer.frozen"];
    let mine = all_after(&server, &master, "", &types, 3).await;
    let shape: Vec<(&str, &str)> = mine
        .iter()
        .map(|e| (e.event_type.as_str(), e.resource_id.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            ("customer.created", c1.customer_id.as_str()),
            ("customer.created", c2.customer_id.as_str()),
            ("customer.frozen", c1.customer_id.as_str()),
        ]
    );
    assert!(mine.iter().all(|e| e.partner_id == acme.partner_id));
    let payload: serde_json::Value =
        serde_json::from_str(&mine[2].payload_json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(payload["freeze_mode"], "ACCOUNT");
    // Cursors grow; reading after one returns only what follows.
    let positions: Vec<i64> = mine
        .iter()
        .map(|e| e.cursor.parse().unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let rest = all_after(&server, &master, &mine[0].cursor, &types, 2).await;
    assert_eq!(rest, mine[1..]);
    // By resource.
    let of_c2 = ok(events(&server, &master)
        .list_events(ev::ListEventsRequest {
            resource_id: c2.customer_id.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(of_c2.events.len(), 1);
    // Globex sees its own only.
    let theirs = all_after(&server, &globex_master, "", &types, 1).await;
    assert_eq!(theirs.len(), 1);
    assert!(theirs.iter().all(|e| e.partner_id == globex.partner_id));
    assert_refused(
        events(&server, &master)
            .list_events(ev::ListEventsRequest {
                cursor: "-5".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    // The operator is no partner: it has no event stream of its own.
    assert_refused(
        events(&server, &admin)
            .list_events(ev::ListEventsRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

/// The next event of a watch, within 10 s.
async fn next(stream: &mut tonic::Streaming<ev::WatchEventsResponse>) -> ev::Event {
    let got = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .unwrap_or_else(|_| panic!("no event within 10 s"))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("stream ended"));
    got.event.unwrap_or_else(|| panic!("empty message"))
}

fn watch(cursor: &str) -> ev::WatchEventsRequest {
    ev::WatchEventsRequest {
        cursor: cursor.into(),
        event_types: vec!["customer.created".into()],
        resource_id: String::new(),
    }
}

#[tokio::test]
async fn watchers_resume_without_loss_or_duplicates_across_disconnects_and_restarts() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let mut expected = Vec::new();
    for i in 0..3 {
        expected.push(
            server
                .create_customer(&master, &acme, &format!("crm-{i}"))
                .await
                .customer_id,
        );
    }

    // Replays what is there, then follows live.
    let mut stream = ok(events(&server, &master).watch_events(watch("")).await);
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next(&mut stream).await);
    }
    let live = server.create_customer(&master, &acme, "crm-live").await;
    expected.push(live.customer_id);
    seen.push(next(&mut stream).await);
    drop(stream);

    // Created while nobody watched; the watcher comes back with its cursor.
    expected.push(
        server
            .create_customer(&master, &acme, "crm-gap")
            .await
            .customer_id,
    );
    let last = seen.last().map(|e| e.cursor.clone()).unwrap_or_default();
    let mut stream = ok(events(&server, &master).watch_events(watch(&last)).await);
    seen.push(next(&mut stream).await);
    let last = seen.last().map(|e| e.cursor.clone()).unwrap_or_default();
    drop(stream);

    // Across a restart: the positions are in the database.
    let server = server.restart().await;
    let master = server.login("acme", USER_PASSWORD).await;
    expected.push(
        server
            .create_customer(&master, &acme, "crm-after")
            .await
            .customer_id,
    );
    let mut stream = ok(events(&server, &master).watch_events(watch(&last)).await);
    seen.push(next(&mut stream).await);
    let ids: Vec<String> = seen.iter().map(|e| e.resource_id.clone()).collect();
    assert_eq!(ids, expected);
    // Nothing more is pending: a fresh list after the last cursor is empty.
    let rest = ok(events(&server, &master)
        .list_events(ev::ListEventsRequest {
            cursor: seen.last().map(|e| e.cursor.clone()).unwrap_or_default(),
            event_types: vec!["customer.created".into()],
            ..Default::default()
        })
        .await);
    assert!(rest.events.is_empty(), "{rest:?}");
}

#[tokio::test]
async fn events_written_concurrently_are_each_seen_once() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let mut stream = ok(events(&server, &master).watch_events(watch("")).await);
    let creates = (0..24).map(|i| {
        let server = &server;
        let master = master.clone();
        let acme = acme.clone();
        async move {
            server
                .create_customer(&master, &acme, &format!("crm-{i}"))
                .await
        }
    });
    let created = futures::future::join_all(creates).await;
    let mut seen = Vec::new();
    for _ in 0..created.len() {
        seen.push(next(&mut stream).await.resource_id);
    }
    let mut want: Vec<String> = created.into_iter().map(|c| c.customer_id).collect();
    want.sort();
    seen.sort();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn an_event_is_read_only_by_who_may_read_its_resource() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    server.create_customer(&master, &acme, "crm-1").await;
    ok(server
        .leads(&master)
        .create_lead(cu::CreateLeadRequest {
            request_id: new_request_id(),
            lead: Some(cu::Lead {
                company_name: "Buyer Ltd".into(),
                phone: "+8613812345678".into(),
                ..Default::default()
            }),
        })
        .await);
    // The master sees both; wait until both are numbered.
    let all = all_after(
        &server,
        &master,
        "",
        &["customer.created", "lead.created"],
        2,
    )
    .await;
    assert_eq!(all.len(), 2);
    // FINANCE reads customers but not leads: it sees the customer's event only.
    let (_, finance) = server.user_with_role(&master, "counter", "FINANCE").await;
    let seen: Vec<String> = ok(events(&server, &finance)
        .list_events(ev::ListEventsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await)
    .events
    .into_iter()
    .map(|e| e.event_type)
    .collect();
    assert!(seen.contains(&"customer.created".to_owned()), "{seen:?}");
    assert!(!seen.iter().any(|t| t.starts_with("lead.")), "{seen:?}");
    // A role holding only `events.read` reads no event at all.
    let role = ok(server
        .roles(&master)
        .create_role(partner_api::accounts::v1::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(partner_api::accounts::v1::Role {
                display_name: "Event readers".into(),
                permission_ids: vec!["events.read".into()],
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap_or_default();
    let (_, reader) = server
        .user_with_role(&master, "reader", &role.role_id)
        .await;
    let nothing = ok(events(&server, &reader)
        .list_events(ev::ListEventsRequest::default())
        .await);
    assert!(nothing.events.is_empty(), "{nothing:?}");
}

#[tokio::test]
async fn a_partner_may_hold_only_so_many_watch_streams() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (_, other) = server.register_partner(&admin, "globex").await;
    let mut open = Vec::new();
    for _ in 0..partner_events::grpc::MAX_WATCHES_PER_PARTNER {
        open.push(ok(events(&server, &master).watch_events(watch("")).await));
    }
    assert_refused(
        events(&server, &master).watch_events(watch("")).await,
        Code::ResourceExhausted,
        "TOO_MANY_WATCHES",
    );
    // Another partner's streams are counted apart.
    let _globex = ok(events(&server, &other).watch_events(watch("")).await);
    // A closed stream gives its place back once its watcher notices.
    drop(open.pop());
    let mut reopened = None;
    for _ in 0..300 {
        if let Ok(s) = events(&server, &master).watch_events(watch("")).await {
            reopened = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reopened.is_some(), "the closed stream's place came back");
}

#[tokio::test]
async fn an_empty_page_hands_the_cursor_back_as_it_came() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    for cursor in ["", "0", "12345"] {
        let page = ok(events(&server, &master)
            .list_events(ev::ListEventsRequest {
                cursor: cursor.into(),
                event_types: vec!["customer.frozen".into()],
                ..Default::default()
            })
            .await);
        assert!(page.events.is_empty());
        assert_eq!(page.next_cursor, cursor);
    }
}
