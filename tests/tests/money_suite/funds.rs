//! Funds: top-ups, funding and reclaiming customers, balances and history.

use partner_api::accounts::v1 as accounts;
use partner_api::billing::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_tests::*;
use tonic::Code;

/// A partner with `minor` fen of cash, its master's token and a RESELLER customer.
pub struct Funded {
    pub admin: String,
    pub partner: accounts::Partner,
    pub master: String,
    pub customer: cu::Customer,
}

pub async fn funded(server: &TestServer, name: &str, minor: i64) -> Funded {
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let customer = server
        .create_customer(&master, &partner, &format!("{name}-buyer"))
        .await;
    if minor > 0 {
        assert_eq!(
            server.top_up(&admin, &partner.partner_id, minor).await,
            minor
        );
    }
    Funded {
        admin,
        partner,
        master,
        customer,
    }
}

pub fn fund(customer: &cu::Customer, minor: i64) -> pb::TransferToCustomerRequest {
    pb::TransferToCustomerRequest {
        request_id: new_request_id(),
        customer_id: customer.customer_id.clone(),
        amount: Some(cny(minor)),
        reason: "monthly allowance".into(),
        reseller_id: String::new(),
    }
}

pub fn reclaim(customer: &cu::Customer, minor: i64) -> pb::ReclaimFromCustomerRequest {
    pb::ReclaimFromCustomerRequest {
        request_id: new_request_id(),
        customer_id: customer.customer_id.clone(),
        amount: Some(cny(minor)),
        reason: "over-funded".into(),
        reseller_id: String::new(),
    }
}

/// The cash balance of `owner_id` among `balances`, in fen.
pub fn cash_of(balances: &[pb::AccountBalance], owner_id: &str) -> i64 {
    let b = balances
        .iter()
        .find(|b| b.owner_id == owner_id)
        .unwrap_or_else(|| panic!("no account of {owner_id} in {balances:?}"));
    minor_of(b.balance.as_ref())
}

pub async fn balances_of_customer(
    server: &TestServer,
    token: &str,
    customer_id: &str,
) -> Vec<pb::AccountBalance> {
    ok(server
        .funds(token)
        .get_balances(pb::GetBalancesRequest {
            customer_id: customer_id.into(),
            ..Default::default()
        })
        .await)
    .balances
}

#[tokio::test]
async fn a_partner_funds_and_reclaims_its_customer_and_every_balance_adds_up() {
    let server = TestServer::start().await;
    let f = funded(&server, "fundco", 100_000).await;
    let partner_id = f.partner.partner_id.clone();
    let customer_id = f.customer.customer_id.clone();

    let funded = ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 30_050))
        .await);
    assert!(funded.transaction_id.starts_with("ltx_"), "{funded:?}");
    assert_eq!(cash_of(&funded.balances, &partner_id), 69_950);
    assert_eq!(cash_of(&funded.balances, &customer_id), 30_050);

    let back = ok(server
        .funds(&f.master)
        .reclaim_from_customer(reclaim(&f.customer, 10_050))
        .await);
    assert_eq!(cash_of(&back.balances, &partner_id), 80_000);
    assert_eq!(cash_of(&back.balances, &customer_id), 20_000);

    // The partner reads its own and its customer's balances.
    let own = ok(server
        .funds(&f.master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].kind, pb::AccountKind::PartnerCash as i32);
    assert_eq!(minor_of(own[0].available.as_ref()), 80_000);
    assert_eq!(minor_of(own[0].debt.as_ref()), 0);
    let theirs = balances_of_customer(&server, &f.master, &customer_id).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].kind, pb::AccountKind::CustomerCash as i32);
    assert_eq!(minor_of(theirs[0].balance.as_ref()), 20_000);

    // The customer's history, newest first, one entry per page.
    let first = ok(server
        .funds(&f.master)
        .list_account_entries(pb::ListAccountEntriesRequest {
            customer_id: customer_id.clone(),
            page_size: 1,
            ..Default::default()
        })
        .await);
    assert_eq!(first.entries.len(), 1);
    assert_eq!(first.entries[0].operation, "RECLAIM");
    assert_eq!(first.entries[0].reason, "over-funded");
    assert_eq!(minor_of(first.entries[0].amount.as_ref()), -10_050);
    assert_eq!(minor_of(first.entries[0].balance_after.as_ref()), 20_000);
    let second = ok(server
        .funds(&f.master)
        .list_account_entries(pb::ListAccountEntriesRequest {
            customer_id: customer_id.clone(),
            page_size: 1,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(second.entries.len(), 1);
    assert_eq!(second.entries[0].operation, "FUND");
    assert_eq!(minor_of(second.entries[0].balance_after.as_ref()), 30_050);
    assert_eq!(second.entries[0].transaction_id, funded.transaction_id);
    assert!(second.next_page_token.is_empty(), "{second:?}");
    // A token of the customer's history does not page the partner's.
    let spliced = server
        .funds(&f.master)
        .list_account_entries(pb::ListAccountEntriesRequest {
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await;
    assert_refused(spliced, Code::InvalidArgument, "FIELD_VIOLATION");

    // The operator reads either owner; the partner's three movements.
    let partner_entries = ok(server
        .funds(&f.admin)
        .list_account_entries(pb::ListAccountEntriesRequest {
            partner_id: partner_id.clone(),
            kind: pb::AccountKind::PartnerCash as i32,
            ..Default::default()
        })
        .await)
    .entries;
    let operations: Vec<&str> = partner_entries
        .iter()
        .map(|e| e.operation.as_str())
        .collect();
    assert_eq!(operations, ["RECLAIM", "FUND", "TOP_UP"]);
    let report = server.assert_ledger_clean().await;
    assert_eq!(
        (report.transactions, report.entries, report.accounts),
        (3, 6, 3)
    );
}

#[tokio::test]
async fn movements_beyond_what_is_available_are_refused_and_move_nothing() {
    let server = TestServer::start().await;
    let f = funded(&server, "thinco", 5_000).await;
    let short = server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 5_001))
        .await;
    let status = assert_refused(short, Code::FailedPrecondition, "INSUFFICIENT_FUNDS");
    assert_eq!(
        metadata_of(&status, "available").as_deref(),
        Some("50.00 CNY")
    );
    assert_eq!(
        metadata_of(&status, "account_kind").as_deref(),
        Some("PARTNER_CASH")
    );
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 5_000))
        .await);
    let too_much = server
        .funds(&f.master)
        .reclaim_from_customer(reclaim(&f.customer, 5_001))
        .await;
    assert_refused(too_much, Code::FailedPrecondition, "INSUFFICIENT_FUNDS");
    // Another currency is another account, empty.
    let mut dollars = fund(&f.customer, 1);
    dollars.amount = Some(partner_api::r#type::v1::Money {
        currency_code: "USD".into(),
        units: 1,
        nanos: 0,
    });
    assert_refused(
        server.funds(&f.master).transfer_to_customer(dollars).await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    assert_eq!(server.rows("ledger_transactions").await, 2);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn only_reseller_customers_of_the_caller_are_funded_and_only_by_finance() {
    let server = TestServer::start().await;
    let f = funded(&server, "strictco", 10_000).await;
    // A consultant-sale customer pays the vendor itself.
    let mut request = create_customer_request(&f.partner, "strictco-consult");
    request.association_type = cu::AssociationType::ConsultantSale as i32;
    let consult = server.created_customer(&f.master, request).await;
    assert_refused(
        server
            .funds(&f.master)
            .transfer_to_customer(fund(&consult, 100))
            .await,
        Code::FailedPrecondition,
        "CONSULTANT_SALE_CUSTOMER",
    );
    // Another partner's customer is not found, either way.
    let other = funded(&server, "otherco", 10_000).await;
    assert_refused(
        server
            .funds(&f.master)
            .transfer_to_customer(fund(&other.customer, 100))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_refused(
        server
            .funds(&f.master)
            .reclaim_from_customer(reclaim(&other.customer, 100))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_refused(
        server
            .funds(&f.master)
            .get_balances(pb::GetBalancesRequest {
                customer_id: other.customer.customer_id.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // A sales user reads balances but moves no money; partners top up nothing.
    let (_, sales) = server
        .user_with_role(&f.master, "strict.sales", "SALES")
        .await;
    balances_of_customer(&server, &sales, &f.customer.customer_id).await;
    assert_refused(
        server
            .funds(&sales)
            .transfer_to_customer(fund(&f.customer, 100))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .funds(&f.master)
            .top_up_partner(pb::TopUpPartnerRequest {
                request_id: new_request_id(),
                partner_id: f.partner.partner_id.clone(),
                amount: Some(cny(100)),
                reason: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // The operator tops up only partners that exist, and names whom it reads.
    let mut ghost = f.partner.partner_id.clone();
    let last = ghost.pop();
    ghost.push(if last == Some('0') { '1' } else { '0' });
    let ghost = server
        .funds(&f.admin)
        .top_up_partner(pb::TopUpPartnerRequest {
            request_id: new_request_id(),
            partner_id: ghost,
            amount: Some(cny(100)),
            reason: String::new(),
        })
        .await;
    assert_refused(ghost, Code::NotFound, "PARTNER_NOT_FOUND");
    let nobody = server
        .funds(&f.admin)
        .get_balances(pb::GetBalancesRequest::default())
        .await;
    assert_refused(nobody, Code::InvalidArgument, "FIELD_VIOLATION");
    assert_eq!(server.rows("ledger_transactions").await, 2);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn malformed_amounts_are_field_violations() {
    let server = TestServer::start().await;
    let f = funded(&server, "fieldco", 10_000).await;
    let money = |code: &str, units: i64, nanos: i32| partner_api::r#type::v1::Money {
        currency_code: code.into(),
        units,
        nanos,
    };
    for bad in [
        None,
        Some(money("CNY", 0, 0)),
        Some(money("CNY", -1, 0)),
        Some(money("CNY", 0, 1_000_000)),
        Some(money("XXX", 1, 0)),
        Some(money("CNY", 1_000_000_000_000, 0)),
        Some(money("CNY", i64::MAX, 0)),
    ] {
        let mut request = fund(&f.customer, 1);
        request.amount = bad.clone();
        let refused = server.funds(&f.master).transfer_to_customer(request).await;
        let status = assert_refused(refused, Code::InvalidArgument, "FIELD_VIOLATION");
        assert_eq!(violated_fields(&status), ["amount"], "{bad:?}");
    }
    let mut request = fund(&f.customer, 1);
    request.reason = "x".repeat(501);
    request.customer_id = "cus_nope".into();
    request.request_id = "not-a-uuid".into();
    let status = assert_refused(
        server.funds(&f.master).transfer_to_customer(request).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, ["customer_id", "reason", "request_id"]);
    assert_eq!(server.rows("ledger_transactions").await, 1);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_customer_that_leaves_returns_the_partners_money_and_takes_no_history_along() {
    let server = TestServer::start().await;
    let f = funded(&server, "leftco", 10_000).await;
    let c = server
        .customer_with_password(&f.master, &f.partner, "leaver")
        .await;
    // Its own password, so that it still signs in once it has left.
    ok(server
        .customers(&server.customer_token(&c.account_name).await)
        .change_own_password(cu::ChangeOwnPasswordRequest {
            request_id: new_request_id(),
            current_password: CUSTOMER_PASSWORD.into(),
            new_password: OWN_PASSWORD.into(),
        })
        .await);
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&c, 4_000))
        .await);
    let funded_at = partner_kernel::clock::to_proto_timestamp(chrono::Utc::now());
    // The partner also pays its orders, until the customer leaves.
    let agreement = ok(server
        .payment_agreements(&f.master)
        .create_payment_agreement(pb::CreatePaymentAgreementRequest {
            request_id: new_request_id(),
            r#type: pb::PaymentAgreementType::Customer as i32,
            payee_id: c.customer_id.clone(),
        })
        .await)
    .agreement
    .unwrap_or_default();
    ok(server
        .customers(&f.master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: c.customer_id.clone(),
            reason: "moved on".into(),
            ..Default::default()
        })
        .await);
    // The partner has its money back, recorded as such.
    let own = ok(server
        .funds(&f.master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(cash_of(&own, &f.partner.partner_id), 10_000);
    let records = ok(server
        .funds(&f.master)
        .list_adjust_records(pb::ListAdjustRecordsRequest::default())
        .await)
    .records;
    let types: Vec<i32> = records.iter().map(|r| r.r#type).collect();
    assert_eq!(
        types,
        [
            pb::AdjustType::ReclaimOnDisassociation as i32,
            pb::AdjustType::Fund as i32
        ]
    );
    assert_eq!(minor_of(records[0].amount.as_ref()), 4_000);
    // The customer sees all of its own history.
    let me = server
        .customer_token_with(&c.account_name, OWN_PASSWORD)
        .await;
    let mine = ok(server
        .funds(&me)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(cash_of(&mine, &c.customer_id), 0);
    let history = ok(server
        .funds(&me)
        .list_account_entries(pb::ListAccountEntriesRequest::default())
        .await)
    .entries;
    assert_eq!(history.len(), 2);
    let then = ok(server
        .funds(&me)
        .get_balance_at(pb::GetBalanceAtRequest {
            time: Some(funded_at),
            ..Default::default()
        })
        .await)
    .balances;
    assert_eq!(cash_of(&then, &c.customer_id), 4_000);
    let ended = ok(server
        .payment_agreements(&me)
        .get_payment_agreement(pb::GetPaymentAgreementRequest {
            id: agreement.id.clone(),
        })
        .await)
    .agreement
    .unwrap_or_default();
    assert_eq!(ended.state, pb::PaymentAgreementState::Terminated as i32);
    assert_eq!(ended.terminated_by, f.partner.partner_id);
    assert_eq!(ended.terminate_reason, "the customer left the partner");

    // It joins another partner, which finds nothing of the first one's.
    let (_, other_master) = server.register_partner(&f.admin, "nextco").await;
    let invite = ok(server
        .customers(&other_master)
        .create_association_invite(cu::CreateAssociationInviteRequest {
            request_id: new_request_id(),
            max_uses: 1,
            ..Default::default()
        })
        .await)
    .token;
    ok(server
        .customers(&me)
        .accept_association_invite(cu::AcceptAssociationInviteRequest {
            request_id: new_request_id(),
            token: invite,
        })
        .await);
    let seen = ok(server
        .funds(&other_master)
        .list_account_entries(pb::ListAccountEntriesRequest {
            customer_id: c.customer_id.clone(),
            ..Default::default()
        })
        .await);
    assert!(seen.entries.is_empty(), "{seen:?}");
    // Nor its balances from before the customer was its own.
    let before = ok(server
        .funds(&other_master)
        .get_balance_at(pb::GetBalanceAtRequest {
            customer_id: c.customer_id.clone(),
            time: Some(funded_at),
            ..Default::default()
        })
        .await)
    .balances;
    assert!(before.is_empty(), "{before:?}");
    assert_refused(
        server
            .funds(&other_master)
            .reclaim_from_customer(reclaim(&c, 1))
            .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    // The first partner reaches it no more.
    assert_refused(
        server
            .funds(&f.master)
            .reclaim_from_customer(reclaim(&c, 1))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_customer_with_money_held_for_its_orders_cannot_leave() {
    let server = TestServer::start().await;
    let f = funded(&server, "heldco", 10_000).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 3_000))
        .await);
    // No RPC places holds yet (orders will): one is forged as an order
    // would leave it, the account's pending with it.
    let hold = partner_kernel::ids::LedgerHoldId::generate();
    let cash = format!(
        "owner_id = '{}' AND kind = 'CUSTOMER_CASH'",
        f.customer.customer_id
    );
    let at = "'2099-01-01 00:00:00+00:00'";
    server
        .execute_sql(&format!(
            "INSERT INTO ledger_holds (id, account_id, amount, state, captured, \
             capture_transaction_id, expires_at, created_at, resolved_at) \
             SELECT '{hold}', id, 1000, 'HELD', 0, NULL, {at}, {at}, NULL \
             FROM ledger_accounts WHERE {cash}"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    server
        .execute_sql(&format!(
            "UPDATE ledger_accounts SET pending = pending + 1000 WHERE {cash}"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = server
        .customers(&f.master)
        .disassociate_customer(cu::DisassociateCustomerRequest {
            request_id: new_request_id(),
            customer_id: f.customer.customer_id.clone(),
            reason: "moved on".into(),
            ..Default::default()
        })
        .await;
    assert_refused(refused, Code::FailedPrecondition, "CUSTOMER_HAS_HELD_FUNDS");
    // Nothing moved, and the customer is still the partner's.
    let theirs = balances_of_customer(&server, &f.master, &f.customer.customer_id).await;
    assert_eq!(cash_of(&theirs, &f.customer.customer_id), 3_000);
    assert_eq!(minor_of(theirs[0].pending.as_ref()), 1_000);
    server.assert_ledger_clean().await;
}
