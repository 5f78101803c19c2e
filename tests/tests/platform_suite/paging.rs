//! Keyset paging through a large listing: nothing missed, nothing repeated,
//! sizes defaulted and capped, filters kept across pages.

use std::collections::HashSet;

use futures::StreamExt;
use partner_api::accounts::v1 as pb;
use partner_tests::*;

const PARTNERS: usize = 1_050;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paging_through_1050_partners_misses_and_repeats_none() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let registered: HashSet<String> = futures::stream::iter(0..PARTNERS)
        .map(|i| {
            let mut client = server.partners(&admin);
            async move {
                let mut request = register_request(&format!("p{i:04}"));
                // Every tenth partner gets a name the prefix filter below selects.
                if i % 10 == 0 {
                    request.display_name = format!("Zeta {i:04}");
                }
                ok(client.register_partner(request).await)
                    .partner
                    .map(|p| p.partner_id)
                    .unwrap_or_default()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(registered.len(), PARTNERS);

    for page_size in [0, 97, 1_000] {
        let (seen, pages) = walk(&server, &admin, page_size, "").await;
        let expected_page = match page_size {
            0 => 50,
            1_000 => 500,
            n => n as usize,
        };
        assert_eq!(pages[0], expected_page, "page size {page_size}");
        assert_eq!(
            seen.len(),
            PARTNERS,
            "page size {page_size}: none missed, none repeated"
        );
        assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), registered);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "oldest first, in id order");
    }

    let (zetas, _) = walk(&server, &admin, 7, "Zeta").await;
    assert_eq!(zetas.len(), PARTNERS / 10);
}

/// Lists every page; returns the ids in order and each page's length.
async fn walk(
    server: &TestServer,
    admin: &str,
    page_size: i32,
    prefix: &str,
) -> (Vec<String>, Vec<usize>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = ok(server
            .partners(admin)
            .list_partners(pb::ListPartnersRequest {
                page_size,
                page_token: token,
                state: pb::PartnerState::Active as i32,
                display_name_prefix: prefix.into(),
            })
            .await);
        pages.push(page.partners.len());
        ids.extend(page.partners.into_iter().map(|p| p.partner_id));
        if page.next_page_token.is_empty() {
            return (ids, pages);
        }
        assert!(pages.len() < 10_000, "paging does not end");
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn the_prefix_filter_is_literal_and_case_sensitive() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    for (user, name) in [
        ("aa1", "100% Cloud"),
        ("aa2", "100x Cloud"),
        ("aa3", "acme"),
        ("aa4", "Acme"),
    ] {
        let mut request = register_request(user);
        request.display_name = name.into();
        ok(server.partners(&admin).register_partner(request).await);
    }
    let names = |prefix: &'static str| {
        let mut client = server.partners(&admin);
        async move {
            ok(client
                .list_partners(pb::ListPartnersRequest {
                    display_name_prefix: prefix.into(),
                    ..Default::default()
                })
                .await)
            .partners
            .into_iter()
            .map(|p| p.display_name)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("100%").await, ["100% Cloud"]);
    assert_eq!(names("Acme").await, ["Acme"]);
    assert_eq!(names("acme").await, ["acme"]);
    assert_eq!(names("_").await, Vec::<String>::new());
}
