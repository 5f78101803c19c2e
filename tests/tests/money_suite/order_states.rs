//! The order state machine as a property test: random sequences of
//! creating, paying and cancelling orders, moving the clock and running the
//! deadline job (with failures the model expects: too little cash, an order
//! not waiting for payment, a deadline passed), through the real server.
//! After every step each order's state and the customer's cash equal an
//! in-memory model's, and at the end the ledger is clean.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::{Clock, TestClock};
use partner_kernel::db::Db;
use partner_tests::*;
use proptest::prelude::*;
use tonic::Code;

use crate::funds::{fund, funded};
use crate::orders::cash;

/// Minutes an order waits for payment in these runs.
const WINDOW_MINUTES: i64 = 10;

#[derive(Debug, Clone)]
enum Op {
    Create,
    Pay(usize),
    Cancel(usize),
    /// Fund the customer with this many fen more.
    Fund(i64),
    /// Move the clock this many minutes and run the deadline job.
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Create),
        3 => (0..6usize).prop_map(Op::Pay),
        1 => (0..6usize).prop_map(Op::Cancel),
        1 => (10_000..60_000i64).prop_map(Op::Fund),
        // Around the payment window, so deadlines are met and missed by a minute.
        3 => prop_oneof![Just(1i64), Just(4), Just(9), Just(10), Just(11)].prop_map(Op::Advance),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending { deadline: DateTime<Utc> },
    Cancelled,
    Completed,
}

impl State {
    fn wire(self) -> pb::OrderState {
        match self {
            State::Pending { .. } => pb::OrderState::PendingPayment,
            State::Cancelled => pb::OrderState::Cancelled,
            State::Completed => pb::OrderState::Completed,
        }
    }
}

fn line() -> partner_api::pricing::v1::PeriodProductLine {
    partner_api::pricing::v1::PeriodProductLine {
        line_id: "vm".into(),
        service_type: "compute".into(),
        resource_type: "vm".into(),
        spec: "c6.large.2".into(),
        region: "cn-north-1".into(),
        period_unit: partner_api::pricing::v1::PeriodUnit::Month as i32,
        period_count: 1,
        quantity: 1,
        main_line_id: String::new(),
        ..Default::default()
    }
}

async fn run(ops: Vec<Op>) {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.order_payment_minutes = u32::try_from(WINDOW_MINUTES).unwrap_or(10);
        // A day: the clock moves hours over a run.
        c.access_token_ttl_secs = 86_400;
    })
    .await;
    let f = funded(&server, "statesco", 100_000_000).await;
    let c = f.customer.customer_id.clone();
    let mut orders: Vec<(String, State)> = Vec::new();
    let mut model_cash = 0i64;
    let mut price = None;
    for op in &ops {
        let now = clock.now();
        match *op {
            Op::Create => {
                let made = ok(server
                    .orders(&f.master)
                    .create_order(pb::CreateOrderRequest {
                        request_id: new_request_id(),
                        customer_id: c.clone(),
                        lines: vec![line()],
                        ..Default::default()
                    })
                    .await)
                .order
                .unwrap_or_default();
                price = Some(minor_of(made.final_total.as_ref()));
                let deadline = now + Duration::minutes(WINDOW_MINUTES);
                orders.push((made.id, State::Pending { deadline }));
            }
            Op::Pay(k) | Op::Cancel(k) => {
                let Some(i) = (!orders.is_empty()).then(|| k % orders.len()) else {
                    continue;
                };
                let (id, state) = orders[i].clone();
                let open = matches!(state, State::Pending { deadline } if now < deadline);
                let paying = matches!(op, Op::Pay(_));
                let cost = price.unwrap_or(0);
                let outcome = if paying {
                    server
                        .orders(&f.master)
                        .pay_order(pb::PayOrderRequest {
                            request_id: new_request_id(),
                            id,
                            ..Default::default()
                        })
                        .await
                        .map(|_| ())
                } else {
                    server
                        .orders(&f.master)
                        .cancel_order(pb::CancelOrderRequest {
                            request_id: new_request_id(),
                            id,
                            ..Default::default()
                        })
                        .await
                        .map(|_| ())
                };
                match (open, paying && model_cash < cost) {
                    (false, _) => {
                        assert_refused(
                            outcome,
                            Code::FailedPrecondition,
                            "ORDER_NOT_PENDING_PAYMENT",
                        );
                    }
                    (true, true) => {
                        assert_refused(outcome, Code::FailedPrecondition, "INSUFFICIENT_FUNDS");
                    }
                    (true, false) => {
                        outcome.unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
                        if paying {
                            model_cash -= cost;
                            orders[i].1 = State::Completed;
                        } else {
                            orders[i].1 = State::Cancelled;
                        }
                    }
                }
            }
            Op::Fund(minor) => {
                ok(server
                    .funds(&f.master)
                    .transfer_to_customer(fund(&f.customer, minor))
                    .await);
                model_cash += minor;
            }
            Op::Advance(minutes) => {
                clock.advance(Duration::minutes(minutes));
                let now = clock.now();
                let db = Db::connect(&server.db.url)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let cancelled = partner_billing::orders::expire_due(&db, now)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let mut due = 0;
                for (_, state) in &mut orders {
                    if matches!(state, State::Pending { deadline } if *deadline <= now) {
                        *state = State::Cancelled;
                        due += 1;
                    }
                }
                assert_eq!(cancelled, due, "orders past their deadline");
            }
        }
        for (id, state) in &orders {
            let got = ok(server
                .orders(&f.master)
                .get_order(pb::GetOrderRequest {
                    id: id.clone(),
                    ..Default::default()
                })
                .await)
            .order
            .unwrap_or_default();
            assert_eq!(got.state(), state.wire(), "{id} after {op:?}");
        }
        assert_eq!(
            cash(&server, &f.master, &c).await,
            model_cash,
            "cash after {op:?}"
        );
    }
    server.assert_ledger_clean().await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn orders_move_as_their_model_says(ops in proptest::collection::vec(op(), 1..20)) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(run(ops));
    }
}
