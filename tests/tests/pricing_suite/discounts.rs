//! Discounts through the real server: the operator's contracts, promotions
//! and incentive policies, partners' rates for their customers within their
//! allowance, every change a version; and rating with one result per
//! discount, amounts worked out by hand here, the best offer marked and the
//! auto-pay preference for commercial contracts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_api::accounts::v1 as accounts;
use partner_api::pricing::v1 as pr;
use partner_api::r#type::v1::Money;
use partner_tests::*;
use tonic::Code;

/// Cents as CNY Money.
fn cents(c: i64) -> Money {
    Money {
        currency_code: "CNY".into(),
        units: c / 100,
        nanos: i32::try_from((c % 100) * 10_000_000).unwrap(),
    }
}

fn to_cents(m: &Option<Money>) -> i64 {
    let m = m.as_ref().expect("an amount");
    m.units * 100 + i64::from(m.nanos / 10_000_000)
}

fn line(
    id: &str,
    product: (&str, &str, &str),
    size: i64,
    unit: pr::PeriodUnit,
    count: i32,
    quantity: i32,
) -> pr::PeriodProductLine {
    pr::PeriodProductLine {
        line_id: id.into(),
        service_type: product.0.into(),
        resource_type: product.1.into(),
        spec: product.2.into(),
        region: "cn-north-1".into(),
        zone: String::new(),
        size,
        period_unit: unit as i32,
        period_count: count,
        quantity,
        main_line_id: String::new(),
    }
}

/// A yearly purchase and a few hours of a small VM, in Beijing:
/// vm 3 × 1520.00 = 4560.00; disk 100 GB × 10.00 × 3 = 3000.00;
/// ip 200.00; tiny 5 h × 0.07 = 0.35. List total 7760.35.
fn purchase() -> Vec<pr::PeriodProductLine> {
    use pr::PeriodUnit::{Hour, Year};
    vec![
        line("vm", ("compute", "vm", "c6.large.2"), 0, Year, 1, 3),
        line("disk", ("block_storage", "volume", "ssd"), 100, Year, 1, 3),
        line("ip", ("network", "eip", "5_bgp"), 0, Year, 1, 1),
        line("tiny", ("compute", "vm", "s6.small.1"), 0, Hour, 5, 1),
    ]
}

fn scope(service: &str, resource: &str) -> Option<pr::ProductScope> {
    Some(pr::ProductScope {
        service_type: service.into(),
        resource_type: resource.into(),
    })
}

async fn policy(
    server: &TestServer,
    admin: &str,
    partner: &str,
    scope: Option<pr::ProductScope>,
    max: &str,
) {
    ok(server
        .discounts(admin)
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: partner.into(),
            scope,
            max_rate_off: max.into(),
            ..Default::default()
        })
        .await);
}

async fn contract(
    server: &TestServer,
    admin: &str,
    kind: pr::DiscountKind,
    whom: (&str, &str),
    scope: Option<pr::ProductScope>,
    terms: pr::create_discount_request::Terms,
) -> pr::Discount {
    ok(server
        .discounts(admin)
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: kind as i32,
            name: format!("{kind:?}"),
            customer_id: whom.0.into(),
            partner_id: whom.1.into(),
            scope,
            terms: Some(terms),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap()
}

fn rate_off(r: &str) -> pr::create_discount_request::Terms {
    pr::create_discount_request::Terms::RateOff(r.into())
}

async fn set_rate(
    server: &TestServer,
    token: &str,
    customer: &str,
    scope: Option<pr::ProductScope>,
    rate: &str,
) -> Result<pr::Discount, tonic::Status> {
    server
        .discounts(token)
        .set_customer_discount(pr::SetCustomerDiscountRequest {
            request_id: new_request_id(),
            customer_id: customer.into(),
            scope,
            rate_off: rate.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().discount.unwrap())
}

async fn rate(
    server: &TestServer,
    token: &str,
    customer: &str,
    auto_pay: bool,
) -> Result<pr::RatePeriodProductsResponse, tonic::Status> {
    server
        .rating(token)
        .rate_period_products(pr::RatePeriodProductsRequest {
            lines: purchase(),
            customer_id: customer.into(),
            auto_pay,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A partner with a customer, and the operator's token.
struct World {
    server: TestServer,
    admin: String,
    partner: accounts::Partner,
    master: String,
    customer: String,
}

async fn world() -> World {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "seller").await;
    let customer = server
        .create_customer(&master, &partner, "buyer-1")
        .await
        .customer_id;
    World {
        server,
        admin,
        partner,
        master,
        customer,
    }
}

fn result_of(r: &pr::RatePeriodProductsResponse, kind: pr::DiscountKind) -> &pr::DiscountResult {
    r.discount_results
        .iter()
        .find(|d| d.kind == kind as i32)
        .unwrap_or_else(|| panic!("no {kind:?} result in {r:?}"))
}

fn line_offs(d: &pr::DiscountResult) -> Vec<(String, i64, i64)> {
    d.lines
        .iter()
        .map(|l| {
            assert_eq!(
                to_cents(&l.final_amount),
                to_cents(&l.list_amount) - to_cents(&l.discount_amount)
            );
            (
                l.line_id.clone(),
                to_cents(&l.discount_amount),
                to_cents(&l.final_amount),
            )
        })
        .collect()
}

#[tokio::test]
async fn rating_for_a_customer_gives_one_result_per_discount_with_the_best_marked() {
    let w = world().await;
    let (s, admin) = (&w.server, w.admin.as_str());
    policy(s, admin, &w.partner.partner_id, None, "0.2").await;
    contract(
        s,
        admin,
        pr::DiscountKind::VendorContract,
        (&w.customer, ""),
        None,
        rate_off("0.1"),
    )
    .await;
    contract(
        s,
        admin,
        pr::DiscountKind::Promotion,
        ("", ""),
        scope("network", "eip"),
        pr::create_discount_request::Terms::Reduction(cents(5_000)),
    )
    .await;
    let set = set_rate(s, &w.master, &w.customer, None, "0.15")
        .await
        .unwrap();
    assert_eq!((set.version, set.vendor_code), (1, 607));

    let r = rate(s, &w.master, &w.customer, false).await.unwrap();
    assert_eq!(to_cents(&r.list_total), 776_035);
    assert_eq!(r.discount_results.len(), 3);

    // Vendor contract, 10 % of every line, each rounded half-up:
    // 456.00, 300.00, 20.00, and 0.035 → 0.04.
    let vendor = result_of(&r, pr::DiscountKind::VendorContract);
    assert_eq!(vendor.vendor_code, 605);
    assert_eq!(
        line_offs(vendor),
        vec![
            ("vm".into(), 45_600, 410_400),
            ("disk".into(), 30_000, 270_000),
            ("ip".into(), 2_000, 18_000),
            ("tiny".into(), 4, 31),
        ]
    );
    assert_eq!(to_cents(&vendor.discount_total), 77_604);
    assert_eq!(to_cents(&vendor.final_total), 698_431);

    // The partner's 15 %: 684.00, 450.00, 30.00, 0.0525 → 0.05.
    let partner = result_of(&r, pr::DiscountKind::PartnerSet);
    assert_eq!(to_cents(&partner.discount_total), 116_405);
    assert_eq!(to_cents(&partner.final_total), 659_630);
    assert_eq!(partner.discount_id, set.id);

    // The promotion covers the elastic IP only: 50.00 off it.
    let promo = result_of(&r, pr::DiscountKind::Promotion);
    assert_eq!(
        line_offs(promo),
        vec![
            ("vm".into(), 0, 456_000),
            ("disk".into(), 0, 300_000),
            ("ip".into(), 5_000, 15_000),
            ("tiny".into(), 0, 35),
        ]
    );
    assert_eq!(to_cents(&promo.final_total), 771_035);

    // The lowest final total is the best offer, listed first, alone marked.
    assert!(r.discount_results[0].best_offer);
    assert_eq!(
        r.discount_results[0].kind,
        pr::DiscountKind::PartnerSet as i32
    );
    assert_eq!(
        r.discount_results.iter().filter(|d| d.best_offer).count(),
        1
    );

    // Paying automatically, the commercial contract is the best offer.
    let auto = rate(s, &w.master, &w.customer, true).await.unwrap();
    assert!(auto.discount_results[0].best_offer);
    assert_eq!(
        auto.discount_results[0].kind,
        pr::DiscountKind::VendorContract as i32
    );
    assert_eq!(
        auto.discount_results
            .iter()
            .filter(|d| d.best_offer)
            .count(),
        1
    );

    // Without a customer: list prices and the promotion only.
    let anonymous = rate(s, &w.master, "", false).await.unwrap();
    assert_eq!(anonymous.discount_results.len(), 1);
    assert_eq!(
        anonymous.discount_results[0].kind,
        pr::DiscountKind::Promotion as i32
    );
    assert!(anonymous.discount_results[0].best_offer);
}

#[tokio::test]
async fn a_partner_sets_rates_within_its_allowance_and_every_change_is_a_version() {
    let w = world().await;
    let (s, admin) = (&w.server, w.admin.as_str());
    // Without a policy there is nothing to give.
    let refused = assert_refused(
        set_rate(s, &w.master, &w.customer, None, "0.01").await,
        Code::FailedPrecondition,
        "DISCOUNT_ABOVE_ALLOWANCE",
    );
    assert_eq!(metadata_of(&refused, "allowance").as_deref(), Some("0"));

    policy(s, admin, &w.partner.partner_id, None, "0.1").await;
    policy(s, admin, &w.partner.partner_id, scope("compute", ""), "0.3").await;
    // Compute may go to 30 %, a single resource type of it too; anything
    // wider only to 10 %.
    set_rate(s, &w.master, &w.customer, scope("compute", ""), "0.3")
        .await
        .unwrap();
    set_rate(s, &w.master, &w.customer, scope("compute", "vm"), "0.25")
        .await
        .unwrap();
    for (scope, rate) in [(None, "0.2"), (scope("block_storage", ""), "0.11")] {
        let refused = assert_refused(
            set_rate(s, &w.master, &w.customer, scope, rate).await,
            Code::FailedPrecondition,
            "DISCOUNT_ABOVE_ALLOWANCE",
        );
        assert_eq!(metadata_of(&refused, "allowance").as_deref(), Some("0.1"));
    }
    // A scope the catalog does not sell, and rates that are not shares.
    let bad = set_rate(s, &w.master, &w.customer, scope("nope", ""), "0.1").await;
    assert_eq!(
        violated_fields(&bad.unwrap_err()),
        vec!["scope.service_type"]
    );
    for rate in ["0", "1.5", "-0.1", "0.12345", "1e-1", ""] {
        let bad = set_rate(s, &w.master, &w.customer, None, rate).await;
        assert_eq!(
            violated_fields(&bad.unwrap_err()),
            vec!["rate_off"],
            "{rate}"
        );
    }

    // Setting the same customer and scope again makes a new version of the
    // same discount; the old one is kept.
    let first = set_rate(s, &w.master, &w.customer, None, "0.05")
        .await
        .unwrap();
    let second = set_rate(s, &w.master, &w.customer, None, "0.08")
        .await
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!((first.version, second.version), (1, 2));
    let versions = ok(s
        .discounts(&w.master)
        .list_discount_versions(pr::ListDiscountVersionsRequest {
            id: first.id.clone(),
        })
        .await)
    .versions;
    let rates: Vec<_> = versions
        .iter()
        .map(|v| match &v.terms {
            Some(pr::discount::Terms::RateOff(r)) => (v.version, r.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rates, vec![(1, "0.05".into()), (2, "0.08".into())]);

    // Only the latest rate is offered.
    let r = rate(s, &w.master, &w.customer, false).await.unwrap();
    let everything = r
        .discount_results
        .iter()
        .find(|d| d.discount_id == first.id)
        .unwrap();
    assert_eq!(everything.discount_version, 2);
    // 8 % of 7760.35, line by line: 364.80 + 240.00 + 16.00 + 0.028 → 0.03.
    assert_eq!(to_cents(&everything.discount_total), 62_083);

    // Ending it: a third version, no longer offered; ending twice is refused.
    let ended = ok(s
        .discounts(&w.master)
        .end_discount(pr::EndDiscountRequest {
            request_id: new_request_id(),
            id: first.id.clone(),
        })
        .await)
    .discount
    .unwrap();
    assert_eq!(ended.version, 3);
    assert!(ended.valid_until.is_some());
    let r = rate(s, &w.master, &w.customer, false).await.unwrap();
    assert!(r.discount_results.iter().all(|d| d.discount_id != first.id));
    assert_refused(
        s.discounts(&w.master)
            .end_discount(pr::EndDiscountRequest {
                request_id: new_request_id(),
                id: first.id.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "DISCOUNT_ENDED",
    );
    // The slot is free again: a new discount for the same scope.
    let again = set_rate(s, &w.master, &w.customer, None, "0.02")
        .await
        .unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(again.version, 1);
}

#[tokio::test]
async fn concurrent_sets_of_one_scope_make_one_discount_with_a_version_each() {
    let w = world().await;
    policy(&w.server, &w.admin, &w.partner.partner_id, None, "0.5").await;
    let sets = (1..=12).map(|i| {
        let (s, master, customer) = (&w.server, w.master.clone(), w.customer.clone());
        async move { set_rate(s, &master, &customer, None, &format!("0.{i:02}")).await }
    });
    let results: Vec<_> = futures::future::join_all(sets).await;
    let ids: std::collections::HashSet<_> = results
        .iter()
        .map(|r| r.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(ids.len(), 1);
    let mut versions: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().unwrap().version)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=12).collect::<Vec<_>>());
    assert_eq!(w.server.rows("pricing_discounts").await, 1);
    assert_eq!(w.server.rows("pricing_discount_versions").await, 12);
}

#[tokio::test]
async fn discounts_stay_inside_their_tenant() {
    let w = world().await;
    let (s, admin) = (&w.server, w.admin.as_str());
    let (other, other_master) = s.register_partner(admin, "rival").await;
    policy(s, admin, &w.partner.partner_id, None, "0.2").await;
    policy(s, admin, &other.partner_id, None, "0.2").await;
    let set = set_rate(s, &w.master, &w.customer, None, "0.1")
        .await
        .unwrap();
    let vendor = contract(
        s,
        admin,
        pr::DiscountKind::VendorContract,
        (&w.customer, ""),
        None,
        rate_off("0.1"),
    )
    .await;

    // Another partner cannot price for, discount, or read the discounts of
    // this partner's customer.
    assert_refused(
        rate(s, &other_master, &w.customer, false).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_refused(
        set_rate(s, &other_master, &w.customer, None, "0.1").await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    for id in [&set.id, &vendor.id] {
        assert_refused(
            s.discounts(&other_master)
                .get_discount(pr::GetDiscountRequest { id: id.clone() })
                .await,
            Code::NotFound,
            "DISCOUNT_NOT_FOUND",
        );
        assert_refused(
            s.discounts(&other_master)
                .list_discount_versions(pr::ListDiscountVersionsRequest { id: id.clone() })
                .await,
            Code::NotFound,
            "DISCOUNT_NOT_FOUND",
        );
        assert_refused(
            s.discounts(&other_master)
                .end_discount(pr::EndDiscountRequest {
                    request_id: new_request_id(),
                    id: id.clone(),
                })
                .await,
            Code::NotFound,
            "DISCOUNT_NOT_FOUND",
        );
    }
    // Its own partner cannot end the operator's contract either.
    assert_refused(
        s.discounts(&w.master)
            .end_discount(pr::EndDiscountRequest {
                request_id: new_request_id(),
                id: vendor.id.clone(),
            })
            .await,
        Code::NotFound,
        "DISCOUNT_NOT_FOUND",
    );
    let listed = |token: String, customer: &str| {
        let customer = customer.to_owned();
        async move {
            s.discounts(&token)
                .list_discounts(pr::ListDiscountsRequest {
                    customer_id: customer,
                    ..Default::default()
                })
                .await
        }
    };
    assert_refused(
        listed(other_master.clone(), &w.customer).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert!(
        ok(listed(other_master.clone(), "").await)
            .discounts
            .is_empty()
    );
    // The owner sees both with the customer named, its own without.
    let mine = ok(listed(w.master.clone(), &w.customer).await).discounts;
    assert_eq!(mine.len(), 2);
    let own = ok(listed(w.master.clone(), "").await).discounts;
    assert_eq!(own.iter().map(|d| &d.id).collect::<Vec<_>>(), vec![&set.id]);
    // Another partner's policies are not readable; its own are.
    assert_refused(
        s.discounts(&other_master)
            .list_incentive_policies(pr::ListIncentivePoliciesRequest {
                partner_id: w.partner.partner_id.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
    let policies = ok(s
        .discounts(&other_master)
        .list_incentive_policies(pr::ListIncentivePoliciesRequest::default())
        .await)
    .policies;
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].partner_id, other.partner_id);
    // Partners make no contracts or policies.
    assert_refused(
        w.server
            .discounts(&w.master)
            .create_discount(pr::CreateDiscountRequest {
                request_id: new_request_id(),
                kind: pr::DiscountKind::Promotion as i32,
                name: "mine".into(),
                terms: Some(rate_off("0.5")),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

#[tokio::test]
async fn a_distributor_contract_covers_its_resellers_customers_and_a_customer_prices_itself() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (dist, dist_master) = server
        .enrolled_partner(&admin, "dist", accounts::Program::Distributor)
        .await;
    let (shop, shop_master) = server.linked_reseller(&admin, &dist_master, "shop").await;
    let ours = server
        .customer_with_password(&shop_master, &shop, "ours")
        .await;
    let d = contract(
        &server,
        &admin,
        pr::DiscountKind::DistributorContract,
        ("", &dist.partner_id),
        scope("compute", ""),
        rate_off("0.2"),
    )
    .await;
    assert_eq!(d.vendor_code, 606);
    let r = rate(&server, &shop_master, &ours.customer_id, false)
        .await
        .unwrap();
    assert_eq!(r.discount_results.len(), 1);
    let result = &r.discount_results[0];
    assert_eq!(result.discount_id, d.id);
    // 20 % of the compute lines only: 912.00 and 0.07.
    assert_eq!(to_cents(&result.discount_total), 91_207);

    // The customer itself sees the same, and cannot price for another.
    let own = server.customer_token(&ours.account_name).await;
    let r = rate(&server, &own, "", false).await.unwrap();
    assert_eq!(r.discount_results.len(), 1);
    assert_eq!(to_cents(&r.discount_results[0].discount_total), 91_207);
    let other = server.create_customer(&shop_master, &shop, "other").await;
    assert_refused(
        rate(&server, &own, &other.customer_id, false).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );

    // A customer of a partner outside the distributor's tree is not covered.
    let (lone, lone_master) = server.register_partner(&admin, "lone").await;
    let lone_customer = server.create_customer(&lone_master, &lone, "alone").await;
    let r = rate(&server, &lone_master, &lone_customer.customer_id, false)
        .await
        .unwrap();
    assert!(r.discount_results.is_empty());
}

#[tokio::test]
async fn a_partners_rate_is_offered_only_up_to_its_allowance_at_rating_time() {
    let w = world().await;
    let (s, admin) = (&w.server, w.admin.as_str());
    let policy_id = ok(s
        .discounts(admin)
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: w.partner.partner_id.clone(),
            max_rate_off: "0.2".into(),
            ..Default::default()
        })
        .await)
    .policy
    .unwrap()
    .id;
    let set = set_rate(s, &w.master, &w.customer, None, "0.15")
        .await
        .unwrap();
    let partner_result = |r: &pr::RatePeriodProductsResponse| {
        r.discount_results
            .iter()
            .find(|d| d.discount_id == set.id)
            .map(|d| to_cents(&d.discount_total))
    };
    // 15 % of 7,760.35, line by line: 684.00 + 450.00 + 30.00 + 0.05.
    let r = rate(s, &w.master, &w.customer, false).await.unwrap();
    assert_eq!(partner_result(&r), Some(116_405));
    // The policy ends: the rate set under it is no longer offered.
    ok(s.discounts(admin)
        .end_incentive_policy(pr::EndIncentivePolicyRequest {
            request_id: new_request_id(),
            id: policy_id,
        })
        .await);
    let r = rate(s, &w.master, &w.customer, false).await.unwrap();
    assert_eq!(partner_result(&r), None);
    // A smaller policy: the rate is offered, capped at 5 %
    // (228.00 + 150.00 + 10.00 + 0.0175 → 0.02).
    policy(s, admin, &w.partner.partner_id, None, "0.05").await;
    let r = rate(s, &w.master, &w.customer, false).await.unwrap();
    assert_eq!(partner_result(&r), Some(38_802));

    // A discount that starts tomorrow, ended today, is ended: ending it
    // again is refused rather than making another version.
    let tomorrow = prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + 86_400,
        nanos: 0,
    };
    let later = ok(s
        .discounts(admin)
        .create_discount(pr::CreateDiscountRequest {
            request_id: new_request_id(),
            kind: pr::DiscountKind::Promotion as i32,
            name: "tomorrow".into(),
            terms: Some(rate_off("0.1")),
            valid_from: Some(tomorrow),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap();
    let end = |id: String| {
        let mut d = s.discounts(admin);
        async move {
            d.end_discount(pr::EndDiscountRequest {
                request_id: new_request_id(),
                id,
            })
            .await
        }
    };
    ok(end(later.id.clone()).await);
    assert_refused(
        end(later.id.clone()).await,
        Code::FailedPrecondition,
        "DISCOUNT_ENDED",
    );
}
