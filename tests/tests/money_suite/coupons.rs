//! Coupon quotas and coupons: the operator grants, a distributor gives and
//! takes back, a partner issues (a result per customer) and reclaims, a
//! leaving customer returns its coupons, and expired ones go to breakage
//! exactly once.

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::accounts::v1 as accounts;
use partner_api::billing::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_kernel::clock::{Clock, TestClock};
use partner_kernel::db::Db;
use partner_tests::*;
use tonic::Code;

use crate::funds::funded;

fn ts(t: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    partner_kernel::clock::to_proto_timestamp(t)
}

/// A quota of `minor` fen for `partner`, valid for 30 days from `now`.
fn grant(partner: &str, minor: i64, now: chrono::DateTime<Utc>) -> pb::GrantCouponQuotaRequest {
    pb::GrantCouponQuotaRequest {
        request_id: new_request_id(),
        partner_id: partner.into(),
        r#type: pb::CouponType::Voucher as i32,
        value: Some(cny(minor)),
        valid_until: Some(ts(now + Duration::days(30))),
        reason: "Q4 campaign".into(),
        ..Default::default()
    }
}

fn issue(quota: &str, customers: &[&str], minor: i64) -> pb::IssueCouponsRequest {
    pb::IssueCouponsRequest {
        request_id: new_request_id(),
        quota_id: quota.into(),
        customer_ids: customers.iter().map(|c| (*c).to_owned()).collect(),
        face_value: Some(cny(minor)),
        memo: "welcome".into(),
        ..Default::default()
    }
}

fn reclaim(coupon: &str) -> pb::ReclaimCouponRequest {
    pb::ReclaimCouponRequest {
        request_id: new_request_id(),
        coupon_id: coupon.into(),
        reason: "sent by mistake".into(),
        ..Default::default()
    }
}

fn balance(q: &pb::CouponQuota) -> i64 {
    minor_of(q.balance.as_ref())
}

async fn granted(server: &TestServer, admin: &str, partner: &str, minor: i64) -> pb::CouponQuota {
    ok(server
        .coupons(admin)
        .grant_coupon_quota(grant(partner, minor, Utc::now()))
        .await)
    .quota
    .unwrap_or_else(|| panic!("no quota"))
}

async fn records_of(server: &TestServer, token: &str, coupon: &str) -> Vec<pb::CouponRecordType> {
    ok(server
        .coupons(token)
        .list_coupon_records(pb::ListCouponRecordsRequest {
            coupon_id: coupon.into(),
            ..Default::default()
        })
        .await)
    .records
    .iter()
    .map(|r| r.r#type())
    .collect()
}

#[tokio::test]
async fn quota_moves_from_the_operator_to_a_distributor_to_its_reseller_and_back() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (distributor, d_master) = server
        .enrolled_partner(&admin, "quotadist", accounts::Program::Distributor)
        .await;
    let (reseller, r_master) = server.linked_reseller(&admin, &d_master, "quotares").await;
    let r_id = reseller.partner_id.clone();

    // Only the operator grants.
    assert_refused(
        server
            .coupons(&d_master)
            .grant_coupon_quota(grant(&distributor.partner_id, 100, Utc::now()))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let quota = granted(&server, &admin, &distributor.partner_id, 100_000).await;
    assert_eq!(balance(&quota), 100_000);
    assert_eq!(quota.state(), pb::CouponQuotaState::Normal);

    let give = |amount| pb::GiveQuotaToResellerRequest {
        request_id: new_request_id(),
        quota_id: quota.id.clone(),
        reseller_id: r_id.clone(),
        amount: Some(cny(amount)),
        reason: "for the reseller's campaign".into(),
    };
    let given = ok(server
        .coupons(&d_master)
        .give_quota_to_reseller(give(30_000))
        .await);
    let theirs = given.reseller_quota.unwrap_or_else(|| panic!("no quota"));
    assert_eq!(
        balance(given.quota.as_ref().unwrap_or_else(|| panic!())),
        70_000
    );
    assert_eq!(balance(&theirs), 30_000);
    assert_eq!(theirs.parent_quota_id, quota.id);
    assert_eq!(theirs.partner_id, r_id);
    // Giving again tops up the same reseller quota.
    let again = ok(server
        .coupons(&d_master)
        .give_quota_to_reseller(give(5_000))
        .await);
    let again = again.reseller_quota.unwrap_or_else(|| panic!("no quota"));
    assert_eq!(again.id, theirs.id);
    assert_eq!(balance(&again), 35_000);
    // More than the quota holds, or to a stranger: refused.
    assert_refused(
        server
            .coupons(&d_master)
            .give_quota_to_reseller(give(65_001))
            .await,
        Code::FailedPrecondition,
        "QUOTA_INSUFFICIENT",
    );
    let (stranger, s_master) = server.register_partner(&admin, "quotastranger").await;
    let mut to_stranger = give(1);
    to_stranger.reseller_id = stranger.partner_id.clone();
    assert_refused(
        server
            .coupons(&d_master)
            .give_quota_to_reseller(to_stranger)
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    // The reseller cannot give its quota back up the chain, nor a stranger take it.
    let mut upward = give(1);
    upward.quota_id = theirs.id.clone();
    upward.reseller_id = distributor.partner_id.clone();
    assert_refused(
        server
            .coupons(&r_master)
            .give_quota_to_reseller(upward)
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    let take_back = |amount| pb::TakeBackQuotaFromResellerRequest {
        request_id: new_request_id(),
        reseller_quota_id: theirs.id.clone(),
        amount: Some(cny(amount)),
        reason: "campaign over".into(),
    };
    assert_refused(
        server
            .coupons(&s_master)
            .take_back_quota_from_reseller(take_back(1))
            .await,
        Code::NotFound,
        "QUOTA_NOT_FOUND",
    );

    // The reseller issues from its quota to its own customer.
    let buyer = server
        .create_customer(&r_master, &reseller, "quotares-buyer")
        .await;
    let issued = ok(server
        .coupons(&r_master)
        .issue_coupons(issue(&theirs.id, &[&buyer.customer_id], 10_000))
        .await);
    assert_eq!(issued.results[0].error_reason, "");
    assert_eq!(
        balance(issued.quota.as_ref().unwrap_or_else(|| panic!())),
        25_000
    );

    // The distributor takes back at most what is left.
    assert_refused(
        server
            .coupons(&d_master)
            .take_back_quota_from_reseller(take_back(25_001))
            .await,
        Code::FailedPrecondition,
        "QUOTA_INSUFFICIENT",
    );
    let back = ok(server
        .coupons(&d_master)
        .take_back_quota_from_reseller(take_back(20_000))
        .await);
    assert_eq!(
        balance(back.quota.as_ref().unwrap_or_else(|| panic!())),
        85_000
    );
    assert_eq!(
        balance(back.reseller_quota.as_ref().unwrap_or_else(|| panic!())),
        5_000
    );

    // Each side reads its own records; the distributor reads its reseller's.
    let kinds = |records: Vec<pb::QuotaRecord>| -> Vec<pb::QuotaRecordType> {
        records.iter().map(|r| r.r#type()).collect()
    };
    let own = ok(server
        .coupons(&d_master)
        .list_quota_records(pb::ListQuotaRecordsRequest::default())
        .await)
    .records;
    assert_eq!(
        kinds(own),
        [
            pb::QuotaRecordType::TakeBackFromReseller,
            pb::QuotaRecordType::GiveToReseller,
            pb::QuotaRecordType::GiveToReseller,
            pb::QuotaRecordType::Grant,
        ]
    );
    let resellers = ok(server
        .coupons(&d_master)
        .list_quota_records(pb::ListQuotaRecordsRequest {
            reseller_id: r_id.clone(),
            ..Default::default()
        })
        .await)
    .records;
    assert_eq!(
        kinds(resellers.clone()),
        [
            pb::QuotaRecordType::TakenBackByDistributor,
            pb::QuotaRecordType::ReceiveFromDistributor,
            pb::QuotaRecordType::ReceiveFromDistributor,
        ]
    );
    assert_eq!(
        ok(server
            .coupons(&r_master)
            .list_quota_records(pb::ListQuotaRecordsRequest::default())
            .await)
        .records,
        resellers
    );
    let listed = ok(server
        .coupons(&r_master)
        .list_coupon_quotas(pb::ListCouponQuotasRequest::default())
        .await)
    .quotas;
    assert_eq!(listed.len(), 1);
    assert_eq!(balance(&listed[0]), 5_000);
    // The operator names the partner it reads.
    assert_refused(
        server
            .coupons(&admin)
            .list_coupon_quotas(pb::ListCouponQuotasRequest::default())
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let as_operator = ok(server
        .coupons(&admin)
        .list_coupon_quotas(pb::ListCouponQuotasRequest {
            partner_id: distributor.partner_id.clone(),
            ..Default::default()
        })
        .await)
    .quotas;
    assert_eq!(as_operator.len(), 1);
    assert_eq!(balance(&as_operator[0]), 85_000);

    // An amount in another currency is refused as such.
    let mut dollars = give(100);
    dollars.amount = Some(partner_api::r#type::v1::Money {
        currency_code: "USD".into(),
        units: 1,
        nanos: 0,
    });
    let status = assert_refused(
        server
            .coupons(&d_master)
            .give_quota_to_reseller(dollars)
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["amount"]);
    // The operator's freeze of the reseller's quota holds its value there.
    let set = |id: &str, state: pb::CouponQuotaState| pb::SetCouponQuotaStateRequest {
        request_id: new_request_id(),
        quota_id: id.into(),
        state: state as i32,
        reason: "review".into(),
    };
    ok(server
        .coupons(&admin)
        .set_coupon_quota_state(set(&theirs.id, pb::CouponQuotaState::Frozen))
        .await);
    assert_refused(
        server
            .coupons(&d_master)
            .take_back_quota_from_reseller(take_back(1))
            .await,
        Code::FailedPrecondition,
        "QUOTA_NOT_USABLE",
    );
    ok(server
        .coupons(&admin)
        .set_coupon_quota_state(set(&theirs.id, pb::CouponQuotaState::Normal))
        .await);
    // Ending the distributor's quota ends the one given from it: both
    // balances return to the promotional budget, and nothing more is issued.
    let ended = ok(server
        .coupons(&admin)
        .set_coupon_quota_state(set(&quota.id, pb::CouponQuotaState::Invalid))
        .await)
    .quota
    .unwrap_or_else(|| panic!("no quota"));
    assert_eq!(balance(&ended), 0);
    let child = ok(server
        .coupons(&r_master)
        .list_coupon_quotas(pb::ListCouponQuotasRequest::default())
        .await)
    .quotas;
    assert_eq!(child[0].state(), pb::CouponQuotaState::Invalid);
    assert_eq!(balance(&child[0]), 0);
    assert_refused(
        server
            .coupons(&r_master)
            .issue_coupons(issue(&theirs.id, &[&buyer.customer_id], 100))
            .await,
        Code::FailedPrecondition,
        "QUOTA_NOT_USABLE",
    );
    assert_refused(
        server
            .coupons(&d_master)
            .take_back_quota_from_reseller(take_back(1))
            .await,
        Code::FailedPrecondition,
        "QUOTA_NOT_USABLE",
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_paused_quota_issues_nothing_and_an_ended_one_returns_its_balance_for_good() {
    let server = TestServer::start().await;
    let f = funded(&server, "pauseco", 0).await;
    let quota = granted(&server, &f.admin, &f.partner.partner_id, 50_000).await;
    let set = |state: pb::CouponQuotaState| pb::SetCouponQuotaStateRequest {
        request_id: new_request_id(),
        quota_id: quota.id.clone(),
        state: state as i32,
        reason: "review".into(),
    };
    for paused in [
        pb::CouponQuotaState::Frozen,
        pb::CouponQuotaState::Adjusting,
    ] {
        ok(server
            .coupons(&f.admin)
            .set_coupon_quota_state(set(paused))
            .await);
        assert_refused(
            server
                .coupons(&f.master)
                .issue_coupons(issue(&quota.id, &[&f.customer.customer_id], 100))
                .await,
            Code::FailedPrecondition,
            "QUOTA_NOT_USABLE",
        );
    }
    ok(server
        .coupons(&f.admin)
        .set_coupon_quota_state(set(pb::CouponQuotaState::Normal))
        .await);
    let issued = ok(server
        .coupons(&f.master)
        .issue_coupons(issue(&quota.id, &[&f.customer.customer_id], 10_000))
        .await);
    let coupon = issued.results[0]
        .coupon
        .clone()
        .unwrap_or_else(|| panic!("no coupon"));
    // Ending it returns the balance to the promotional budget; the coupon stays.
    let ended = ok(server
        .coupons(&f.admin)
        .set_coupon_quota_state(set(pb::CouponQuotaState::Invalid))
        .await)
    .quota
    .unwrap_or_else(|| panic!("no quota"));
    assert_eq!(ended.state(), pb::CouponQuotaState::Invalid);
    assert_eq!(balance(&ended), 0);
    assert_refused(
        server
            .coupons(&f.admin)
            .set_coupon_quota_state(set(pb::CouponQuotaState::Normal))
            .await,
        Code::FailedPrecondition,
        "QUOTA_INVALID",
    );
    // A coupon reclaimed from an ended quota goes back to the promotional
    // budget, not into the ended quota.
    let reclaimed = ok(server
        .coupons(&f.master)
        .reclaim_coupon(reclaim(&coupon.id))
        .await);
    assert_eq!(
        balance(reclaimed.quota.as_ref().unwrap_or_else(|| panic!())),
        0
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn issuing_answers_per_customer_and_reclaiming_returns_the_rest_once() {
    let server = TestServer::start().await;
    let f = funded(&server, "couponco", 0).await;
    let mut request = grant(&f.partner.partner_id, 100_000, Utc::now());
    request.max_coupons_per_customer = 1;
    request.max_face_value = Some(cny(20_000));
    request.service_types = vec!["ecs".into(), "evs".into()];
    let quota = ok(server.coupons(&f.admin).grant_coupon_quota(request).await)
        .quota
        .unwrap_or_else(|| panic!("no quota"));
    let second = server
        .customer_with_password(&f.master, &f.partner, "couponco-second")
        .await;
    let mut consult = create_customer_request(&f.partner, "couponco-consult");
    consult.association_type = cu::AssociationType::ConsultantSale as i32;
    let consult = server.created_customer(&f.master, consult).await;
    let other = funded(&server, "couponother", 0).await;

    let asked = [
        f.customer.customer_id.as_str(),
        consult.customer_id.as_str(),
        other.customer.customer_id.as_str(),
        second.customer_id.as_str(),
    ];
    let first = issue(&quota.id, &asked, 10_000);
    let issued = ok(server.coupons(&f.master).issue_coupons(first.clone()).await);
    let reasons: Vec<&str> = issued
        .results
        .iter()
        .map(|r| r.error_reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        ["", "CONSULTANT_SALE_CUSTOMER", "CUSTOMER_NOT_FOUND", ""]
    );
    assert_eq!(
        balance(issued.quota.as_ref().unwrap_or_else(|| panic!())),
        80_000
    );
    let mine = issued.results[0]
        .coupon
        .clone()
        .unwrap_or_else(|| panic!("no coupon"));
    assert_eq!(mine.state(), pb::CouponState::Usable);
    assert_eq!(minor_of(mine.balance.as_ref()), 10_000);
    // The coupon takes the quota's service types when it names none.
    assert_eq!(mine.service_types, ["ecs", "evs"]);
    // A replay answers the same and issues nothing again.
    let replay = ok(server.coupons(&f.master).issue_coupons(first).await);
    assert_eq!(replay, issued);
    assert_eq!(server.rows("coupons").await, 2);
    // One coupon per customer from this quota.
    let limited = ok(server
        .coupons(&f.master)
        .issue_coupons(issue(&quota.id, &[&second.customer_id], 100))
        .await);
    assert_eq!(limited.results[0].error_reason, "CUSTOMER_LIMIT_REACHED");
    assert_eq!(limited.transaction_id, "");

    // Outside the quota's terms: refused as a whole, nothing issued.
    let third = server
        .create_customer(&f.master, &f.partner, "couponco-third")
        .await;
    let mut too_big = issue(&quota.id, &[&third.customer_id], 20_001);
    let status = assert_refused(
        server
            .coupons(&f.master)
            .issue_coupons(too_big.clone())
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["face_value"]);
    too_big.face_value = Some(cny(100));
    too_big.valid_until = Some(ts(Utc::now() + Duration::days(31)));
    let status = assert_refused(
        server
            .coupons(&f.master)
            .issue_coupons(too_big.clone())
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["valid_until"]);
    too_big.valid_until = None;
    too_big.service_types = vec!["rds".into()];
    let status = assert_refused(
        server.coupons(&f.master).issue_coupons(too_big).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["service_types"]);
    let mut repeated = issue(&quota.id, &[&third.customer_id, &third.customer_id], 100);
    repeated.customer_ids[0] = third.customer_id.clone();
    let status = assert_refused(
        server.coupons(&f.master).issue_coupons(repeated).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["customer_ids[1]"]);
    // Another partner neither issues from this quota nor reclaims its coupons.
    assert_refused(
        server
            .coupons(&other.master)
            .issue_coupons(issue(&quota.id, &[&other.customer.customer_id], 100))
            .await,
        Code::NotFound,
        "QUOTA_NOT_FOUND",
    );
    assert_refused(
        server
            .coupons(&other.master)
            .reclaim_coupon(reclaim(&mine.id))
            .await,
        Code::NotFound,
        "COUPON_NOT_FOUND",
    );

    // Reclaiming returns the whole rest to the quota, once.
    let back = ok(server
        .coupons(&f.master)
        .reclaim_coupon(reclaim(&mine.id))
        .await);
    let coupon = back.coupon.unwrap_or_else(|| panic!("no coupon"));
    assert_eq!(coupon.state(), pb::CouponState::Reclaimed);
    assert_eq!(minor_of(coupon.balance.as_ref()), 0);
    assert_eq!(
        balance(back.quota.as_ref().unwrap_or_else(|| panic!())),
        90_000
    );
    let status = assert_refused(
        server
            .coupons(&f.master)
            .reclaim_coupon(reclaim(&mine.id))
            .await,
        Code::FailedPrecondition,
        "COUPON_NOT_RECLAIMABLE",
    );
    assert_eq!(metadata_of(&status, "state").as_deref(), Some("RECLAIMED"));
    assert_eq!(
        records_of(&server, &f.master, &mine.id).await,
        [pb::CouponRecordType::Reclaim, pb::CouponRecordType::Issue]
    );

    // Listing by state; the customer reads its own coupons only.
    let listed = |state: pb::CouponState| pb::ListIssuedCouponsRequest {
        state: state as i32,
        ..Default::default()
    };
    let usable = ok(server
        .coupons(&f.master)
        .list_issued_coupons(listed(pb::CouponState::Usable))
        .await)
    .coupons;
    assert_eq!(usable.len(), 1);
    assert_eq!(usable[0].customer_id, second.customer_id);
    let gone = ok(server
        .coupons(&f.master)
        .list_issued_coupons(listed(pb::CouponState::Reclaimed))
        .await)
    .coupons;
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].id, mine.id);
    let own = ok(server
        .coupons(&server.customer_token(&second.account_name).await)
        .list_issued_coupons(pb::ListIssuedCouponsRequest::default())
        .await)
    .coupons;
    assert_eq!(own, usable);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn concurrent_issues_never_overdraw_a_quota() {
    let server = TestServer::start().await;
    let f = funded(&server, "raceco", 0).await;
    let quota = granted(&server, &f.admin, &f.partner.partner_id, 50_000).await;
    let mut customers = Vec::new();
    for i in 0..8 {
        customers.push(
            server
                .create_customer(&f.master, &f.partner, &format!("raceco-{i}"))
                .await,
        );
    }
    let attempts = customers.iter().map(|c| {
        let mut client = server.coupons(&f.master);
        let request = issue(&quota.id, &[&c.customer_id], 10_000);
        async move { client.issue_coupons(request).await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let mut issued = 0;
    for outcome in outcomes {
        match outcome {
            Ok(r) => {
                assert_eq!(r.into_inner().results[0].error_reason, "");
                issued += 1;
            }
            Err(status) => {
                let status = assert_refused(
                    Err::<(), _>(status),
                    Code::FailedPrecondition,
                    "QUOTA_INSUFFICIENT",
                );
                assert!(metadata_of(&status, "available").is_some());
            }
        }
    }
    assert_eq!(issued, 5);
    assert_eq!(server.rows("coupons").await, 5);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_leaving_customer_returns_its_coupons_and_expired_ones_break_exactly_once() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let f = funded(&server, "leaveco", 0).await;
    let quota = ok(server
        .coupons(&f.admin)
        .grant_coupon_quota(grant(&f.partner.partner_id, 100_000, clock.now()))
        .await)
    .quota
    .unwrap_or_else(|| panic!("no quota"));
    let stays = server
        .create_customer(&f.master, &f.partner, "leaveco-stays")
        .await;
    let mut short = issue(&quota.id, &[&stays.customer_id], 3_000);
    short.valid_until = Some(ts(clock.now() + Duration::minutes(30)));
    let short = ok(server.coupons(&f.master).issue_coupons(short).await).results[0]
        .coupon
        .clone()
        .unwrap_or_else(|| panic!("no coupon"));
    let leaving = ok(server
        .coupons(&f.master)
        .issue_coupons(issue(&quota.id, &[&f.customer.customer_id], 5_000))
        .await)
    .results[0]
        .coupon
        .clone()
        .unwrap_or_else(|| panic!("no coupon"));

    // The customer leaves: its coupon returns to the quota.
    ok(server
        .customers(&f.master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: f.customer.customer_id.clone(),
            reason: "moved on".into(),
            ..Default::default()
        })
        .await);
    assert_eq!(
        records_of(&server, &f.master, &leaving.id).await,
        [
            pb::CouponRecordType::ReclaimOnDisassociation,
            pb::CouponRecordType::Issue
        ]
    );
    let quotas = ok(server
        .coupons(&f.master)
        .list_coupon_quotas(pb::ListCouponQuotasRequest::default())
        .await)
    .quotas;
    assert_eq!(balance(&quotas[0]), 97_000);

    // Past its validity the other coupon reads EXPIRED at once; two
    // replicas' expiry passes then close it exactly once, its rest to breakage.
    clock.advance(Duration::minutes(40));
    let expired = pb::ListIssuedCouponsRequest {
        state: pb::CouponState::Expired as i32,
        ..Default::default()
    };
    let listed = ok(server
        .coupons(&f.master)
        .list_issued_coupons(expired.clone())
        .await)
    .coupons;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, short.id);
    assert_eq!(minor_of(listed[0].balance.as_ref()), 3_000);
    let now = clock.now();
    let replica = |url: String| async move {
        let db = Db::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        partner_billing::coupons::expire_due(&db, now).await
    };
    let url = server.db.url.clone();
    let (a, b) = tokio::join!(replica(url.clone()), replica(url));
    let closed = a.unwrap_or_else(|e| panic!("{e}")) + b.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(closed, 1);
    let listed = ok(server.coupons(&f.master).list_issued_coupons(expired).await).coupons;
    assert_eq!(minor_of(listed[0].balance.as_ref()), 0);
    assert_eq!(
        records_of(&server, &f.master, &short.id).await,
        [pb::CouponRecordType::Expiry, pb::CouponRecordType::Issue]
    );
    // An expired coupon is not reclaimed.
    assert_refused(
        server
            .coupons(&f.master)
            .reclaim_coupon(reclaim(&short.id))
            .await,
        Code::FailedPrecondition,
        "COUPON_NOT_RECLAIMABLE",
    );
    server.assert_ledger_clean().await;
}
