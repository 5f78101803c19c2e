//! The ledger against an in-memory model (RELIABILITY M1–M3, M7, M10,
//! M11): random sequences of top-ups, fundings, reclaims, holds, captures,
//! releases and expiries, coupon quotas granted, coupons issued, reclaimed
//! and expired, some with a failure injected before commit (the write
//! transaction is dropped between its legs), run on a real migrated
//! database. After every step each account's balance and pending equal the
//! model's, every refusal is one the model expects, and at the end the
//! reconciliation finds nothing wrong and every coupon's value is
//! conserved: issued = reclaimed + expired + outstanding.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use partner_billing::BillingError;
use partner_billing::coupons::entity::coupon_record;
use partner_billing::coupons::model::{Coupon, CouponType, Quota, QuotaState, Stored};
use partner_billing::coupons::{self, grant_in, issue_in, reclaim_in};
use partner_billing::entity::ledger_account as account;
use partner_billing::ledger::holds::{self, expire_due};
use partner_billing::ledger::{AccountKey, Kind, Operation, Owner, Posting, check, post};
use partner_kernel::db::Db;
use partner_kernel::ids::{
    CouponId, CouponQuotaId, CustomerId, LedgerHoldId, PartnerId, SessionId, UserId,
};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::permission::PermissionSet;
use partner_kernel::principal::{Actor, Principal};
use partner_migration::{Migrator, MigratorTrait};
use proptest::prelude::*;
use sea_orm::EntityTrait;

#[derive(Debug, Clone)]
enum Op {
    TopUp {
        partner: usize,
        minor: i64,
    },
    Fund {
        partner: usize,
        customer: usize,
        minor: i64,
    },
    Reclaim {
        customer: usize,
        partner: usize,
        minor: i64,
    },
    Hold {
        customer: usize,
        minor: i64,
        minutes: i64,
    },
    Capture {
        hold: usize,
        minor: i64,
    },
    Release {
        hold: usize,
    },
    Advance {
        minutes: i64,
    },
    Grant {
        minor: i64,
    },
    Issue {
        quota: usize,
        customer: usize,
        minor: i64,
        minutes: i64,
    },
    ReclaimCoupon {
        coupon: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 1..5_000i64).prop_map(|(partner, minor)| Op::TopUp { partner, minor }),
        (0..2usize, 0..3usize, 1..3_000i64).prop_map(|(partner, customer, minor)| Op::Fund {
            partner,
            customer,
            minor
        }),
        (0..3usize, 0..2usize, 1..3_000i64).prop_map(|(customer, partner, minor)| Op::Reclaim {
            customer,
            partner,
            minor
        }),
        (0..3usize, 1..2_000i64, 1..60i64).prop_map(|(customer, minor, minutes)| Op::Hold {
            customer,
            minor,
            minutes
        }),
        (0..8usize, 1..2_500i64).prop_map(|(hold, minor)| Op::Capture { hold, minor }),
        (0..8usize).prop_map(|hold| Op::Release { hold }),
        (1..40i64).prop_map(|minutes| Op::Advance { minutes }),
        (1..5_000i64).prop_map(|minor| Op::Grant { minor }),
        (0..3usize, 0..3usize, 1..2_000i64, 1..90i64).prop_map(
            |(quota, customer, minor, minutes)| Op::Issue {
                quota,
                customer,
                minor,
                minutes
            }
        ),
        (0..8usize).prop_map(|coupon| Op::ReclaimCoupon { coupon }),
    ]
}

struct ModelHold {
    id: LedgerHoldId,
    account: (String, &'static str),
    amount: i64,
    open: bool,
    expires: DateTime<Utc>,
}

struct ModelCoupon {
    coupon: Coupon,
    open: bool,
}

#[derive(Default)]
struct Model {
    /// (owner, kind) → (balance, pending).
    accounts: HashMap<(String, &'static str), (i64, i64)>,
    holds: Vec<ModelHold>,
    quotas: Vec<Quota>,
    coupons: Vec<ModelCoupon>,
}

impl Model {
    fn get(&self, key: &(String, &'static str)) -> (i64, i64) {
        self.accounts.get(key).copied().unwrap_or((0, 0))
    }

    fn available(&self, key: &(String, &'static str)) -> i64 {
        let (balance, pending) = self.get(key);
        balance - pending
    }

    fn add(&mut self, key: (String, &'static str), balance: i64, pending: i64) {
        let entry = self.accounts.entry(key).or_insert((0, 0));
        entry.0 += balance;
        entry.1 += pending;
    }
}

fn cny(minor: i64) -> Money {
    Money::from_minor(Currency::Cny, minor)
}

fn key(owner: Owner, kind: Kind) -> (String, &'static str) {
    (owner.to_string(), kind.as_str())
}

struct World {
    db: Db,
    partners: Vec<Owner>,
    customers: Vec<Owner>,
    principal: Principal,
    now: DateTime<Utc>,
}

impl World {
    fn mutation(&self) -> Mutation {
        Mutation::new(
            self.principal.clone(),
            "test/LedgerModel",
            uuid::Uuid::new_v4(),
            [0; 32],
            self.now,
        )
    }
}

/// Runs `op` on the database (dropping the transaction instead of
/// committing it when `fail`), and on the model when the database
/// committed. Panics when they disagree about whether it is allowed.
async fn step(w: &mut World, model: &mut Model, op: &Op, fail: bool) {
    let tx = w.db.begin_write().await.unwrap();
    let m = w.mutation();
    // The quota or coupon the step makes, when it makes one.
    let mut new_quota = None;
    let mut new_coupon = None;
    // What the model says, and what the database did.
    let (expected, outcome): (bool, Result<Option<LedgerHoldId>, BillingError>) = match *op {
        Op::TopUp { partner, minor } => {
            let to = w.partners[partner];
            let posting = Posting::transfer(
                Operation::TopUp,
                (Owner::Platform, Kind::ExternalFunding),
                (to, Kind::PartnerCash),
                cny(minor),
            )
            .unwrap();
            (true, post(&*tx, &m, &posting).await.map(|_| None))
        }
        Op::Fund {
            partner,
            customer,
            minor,
        }
        | Op::Reclaim {
            customer,
            partner,
            minor,
        } => {
            let (p, c) = (
                (w.partners[partner], Kind::PartnerCash),
                (w.customers[customer], Kind::CustomerCash),
            );
            let (from, to, operation) = if matches!(op, Op::Fund { .. }) {
                (p, c, Operation::Fund)
            } else {
                (c, p, Operation::Reclaim)
            };
            let posting = Posting::transfer(operation, from, to, cny(minor)).unwrap();
            (
                model.available(&key(from.0, from.1)) >= minor,
                post(&*tx, &m, &posting).await.map(|_| None),
            )
        }
        Op::Hold {
            customer,
            minor,
            minutes,
        } => {
            let owner = w.customers[customer];
            let account = AccountKey::new(owner, Kind::CustomerCash, Currency::Cny);
            (
                model.available(&key(owner, Kind::CustomerCash)) >= minor,
                holds::hold(
                    &tx,
                    &account,
                    cny(minor),
                    w.now + Duration::minutes(minutes),
                    w.now,
                )
                .await
                .map(Some),
            )
        }
        Op::Capture { hold, minor } => {
            let Some(h) = model.holds.get(hold % model.holds.len().max(1)) else {
                return;
            };
            (
                h.open && minor <= h.amount,
                holds::capture(
                    &tx,
                    &m,
                    h.id,
                    cny(minor),
                    (Owner::Platform, Kind::Revenue),
                    Operation::Fund,
                )
                .await
                .map(|_| None),
            )
        }
        Op::Release { hold } => {
            let Some(h) = model.holds.get(hold % model.holds.len().max(1)) else {
                return;
            };
            (h.open, holds::release(&tx, h.id, w.now).await.map(|_| None))
        }
        Op::Grant { minor } => {
            let q = quota(w.partners[0], w.now);
            let made = grant_in(&tx, &m, &q, cny(minor), "campaign").await;
            new_quota = Some(q);
            (true, made.map(|_| None))
        }
        Op::Issue {
            quota,
            customer,
            minor,
            minutes,
        } => {
            let Some(q) = model.quotas.get(quota % model.quotas.len().max(1)) else {
                return;
            };
            let Owner::Customer(holder) = w.customers[customer] else {
                unreachable!()
            };
            let c = coupon(q, holder, minor, w.now, minutes);
            let made = issue_in(&tx, &m, q, std::slice::from_ref(&c), "").await;
            new_coupon = Some(c);
            (
                model.available(&key(Owner::Quota(q.id), Kind::CouponQuota)) >= minor,
                made.map(|_| None),
            )
        }
        Op::ReclaimCoupon { coupon } => {
            let Some(c) = model.coupons.get(coupon % model.coupons.len().max(1)) else {
                return;
            };
            let rest = model
                .get(&key(Owner::Coupon(c.coupon.id), Kind::CouponLiability))
                .0;
            (
                c.open && w.now < c.coupon.valid_until && rest > 0,
                reclaim_in(&tx, &m, c.coupon.id, c.coupon.partner, "")
                    .await
                    .map(|_| None),
            )
        }
        Op::Advance { minutes } => {
            drop(tx);
            w.now += Duration::minutes(minutes);
            let coupons_expired = coupons::expire_due(&w.db, w.now).await.unwrap();
            let mut due = Vec::new();
            for c in model
                .coupons
                .iter_mut()
                .filter(|c| c.open && c.coupon.valid_until <= w.now)
            {
                c.open = false;
                due.push(c.coupon.id);
            }
            for id in &due {
                let account = key(Owner::Coupon(*id), Kind::CouponLiability);
                let rest = model.get(&account).0;
                model.add(account, -rest, 0);
                model.add(key(Owner::Platform, Kind::Breakage), rest, 0);
            }
            assert_eq!(coupons_expired, due.len() as u64, "coupons expired");
            let expired = expire_due(&w.db, w.now).await.unwrap();
            let mut n = 0;
            for h in model
                .holds
                .iter_mut()
                .filter(|h| h.open && h.expires <= w.now)
            {
                h.open = false;
                n += 1;
                let entry = model.accounts.entry(h.account.clone()).or_insert((0, 0));
                entry.1 -= h.amount;
            }
            assert_eq!(expired, n, "holds expired");
            return;
        }
    };
    match &outcome {
        Ok(_) => assert!(expected, "{op:?} was allowed; the model refuses it"),
        Err(
            BillingError::InsufficientFunds { .. }
            | BillingError::HoldResolved
            | BillingError::CaptureAboveHold { .. }
            | BillingError::CouponNotReclaimable { .. },
        ) => assert!(!expected, "{op:?} was refused: {outcome:?}"),
        Err(e) => panic!("{op:?}: {e}"),
    }
    let Ok(made) = outcome else { return };
    if fail {
        drop(tx);
        return;
    }
    tx.commit().await.unwrap();
    match *op {
        Op::TopUp { partner, minor } => {
            model.add(key(Owner::Platform, Kind::ExternalFunding), -minor, 0);
            model.add(key(w.partners[partner], Kind::PartnerCash), minor, 0);
        }
        Op::Fund {
            partner,
            customer,
            minor,
        } => {
            model.add(key(w.partners[partner], Kind::PartnerCash), -minor, 0);
            model.add(key(w.customers[customer], Kind::CustomerCash), minor, 0);
        }
        Op::Reclaim {
            customer,
            partner,
            minor,
        } => {
            model.add(key(w.customers[customer], Kind::CustomerCash), -minor, 0);
            model.add(key(w.partners[partner], Kind::PartnerCash), minor, 0);
        }
        Op::Hold {
            customer,
            minor,
            minutes,
        } => {
            let account = key(w.customers[customer], Kind::CustomerCash);
            model.add(account.clone(), 0, minor);
            model.holds.push(ModelHold {
                id: made.unwrap(),
                account,
                amount: minor,
                open: true,
                expires: w.now + Duration::minutes(minutes),
            });
        }
        Op::Capture { hold, minor } => {
            let i = hold % model.holds.len();
            let (account, amount) = (model.holds[i].account.clone(), model.holds[i].amount);
            model.holds[i].open = false;
            model.add(account, -minor, -amount);
            model.add(key(Owner::Platform, Kind::Revenue), minor, 0);
        }
        Op::Release { hold } => {
            let i = hold % model.holds.len();
            model.holds[i].open = false;
            let (account, amount) = (model.holds[i].account.clone(), model.holds[i].amount);
            model.add(account, 0, -amount);
        }
        Op::Grant { minor } => {
            let q = new_quota.unwrap();
            model.add(key(Owner::Platform, Kind::Promotion), -minor, 0);
            model.add(key(Owner::Quota(q.id), Kind::CouponQuota), minor, 0);
            model.quotas.push(q);
        }
        Op::Issue { minor, .. } => {
            let c = new_coupon.unwrap();
            model.add(key(Owner::Quota(c.quota), Kind::CouponQuota), -minor, 0);
            model.add(key(Owner::Coupon(c.id), Kind::CouponLiability), minor, 0);
            model.coupons.push(ModelCoupon {
                coupon: c,
                open: true,
            });
        }
        Op::ReclaimCoupon { coupon } => {
            let i = coupon % model.coupons.len();
            model.coupons[i].open = false;
            let c = &model.coupons[i].coupon;
            let (id, quota) = (c.id, c.quota);
            let account = key(Owner::Coupon(id), Kind::CouponLiability);
            let rest = model.get(&account).0;
            model.add(account, -rest, 0);
            model.add(key(Owner::Quota(quota), Kind::CouponQuota), rest, 0);
        }
        Op::Advance { .. } => {}
    }
}

fn quota(partner: Owner, now: DateTime<Utc>) -> Quota {
    let Owner::Partner(partner) = partner else {
        unreachable!()
    };
    Quota {
        id: CouponQuotaId::generate(),
        partner,
        parent: None,
        coupon_type: CouponType::Voucher,
        state: QuotaState::Normal,
        currency: Currency::Cny,
        valid_from: now,
        valid_until: now + Duration::days(365),
        max_face_value: None,
        max_per_customer: None,
        service_types: Vec::new(),
        created_at: now,
    }
}

fn coupon(q: &Quota, customer: CustomerId, minor: i64, now: DateTime<Utc>, minutes: i64) -> Coupon {
    Coupon {
        id: CouponId::generate(),
        quota: q.id,
        partner: q.partner,
        customer,
        coupon_type: q.coupon_type,
        stored: Stored::Open,
        face_value: cny(minor),
        valid_from: now,
        valid_until: now + Duration::minutes(minutes),
        service_types: Vec::new(),
        product_ids: Vec::new(),
        memo: String::new(),
        created_at: now,
        closed_at: None,
    }
}

/// M7: each coupon's face value is what its records say left it plus what
/// its account still holds, and one issue record says it was issued.
async fn assert_coupon_value_conserved(w: &World, model: &Model) {
    let records = coupon_record::Entity::find()
        .all(w.db.conn())
        .await
        .unwrap();
    let accounts = account::Entity::find().all(w.db.conn()).await.unwrap();
    for c in &model.coupons {
        let id = c.coupon.id.to_string();
        let of = |kind: &str| -> i64 {
            records
                .iter()
                .filter(|r| r.coupon_id == id && r.record_type == kind)
                .map(|r| r.amount)
                .sum()
        };
        let outstanding = accounts
            .iter()
            .find(|a| a.owner_id == id)
            .map_or(0, |a| a.balance);
        let issued = of("ISSUE");
        assert_eq!(issued, c.coupon.face_value.minor(), "{id} issued");
        assert_eq!(
            issued,
            of("RECLAIM") + of("RECLAIM_ON_DISASSOCIATION") + of("EXPIRY") + outstanding,
            "{id}: issued = reclaimed + expired + outstanding"
        );
    }
}

async fn assert_matches(w: &World, model: &Model, after: &Op) {
    let rows = account::Entity::find().all(w.db.conn()).await.unwrap();
    for row in &rows {
        let kind = Kind::parse(&row.kind).unwrap().as_str();
        assert_eq!(
            (row.balance, row.pending),
            model.get(&(row.owner_id.clone(), kind)),
            "{} {kind} after {after:?}",
            row.owner_id
        );
    }
    for (k, v) in &model.accounts {
        if *v != (0, 0) {
            assert!(
                rows.iter().any(|r| r.owner_id == k.0 && r.kind == k.1),
                "{k:?} missing after {after:?}"
            );
        }
    }
}

async fn run(ops: Vec<(Op, bool)>) {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    Migrator::up(db.conn(), None).await.unwrap();
    let mut w = World {
        db,
        partners: vec![
            Owner::Partner(PartnerId::generate()),
            Owner::Partner(PartnerId::generate()),
        ],
        customers: (0..3)
            .map(|_| Owner::Customer(CustomerId::generate()))
            .collect(),
        principal: Principal {
            user_id: Some(UserId::generate()),
            session_id: SessionId::generate(),
            actor: Actor::Operator,
            permissions: PermissionSet::empty(),
        },
        now: Utc::now(),
    };
    let mut model = Model::default();
    for (op, fail) in &ops {
        step(&mut w, &mut model, op, *fail).await;
        assert_matches(&w, &model, op).await;
    }
    let report = check::check(w.db.conn()).await.unwrap();
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert_coupon_value_conserved(&w, &model).await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_ledger_agrees_with_its_model(ops in proptest::collection::vec((op(), proptest::bool::weighted(0.15)), 1..40)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(ops));
    }
}

#[tokio::test]
async fn an_expired_hold_is_not_captured_and_a_bad_hold_does_not_stop_expiry() {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    Migrator::up(db.conn(), None).await.unwrap();
    let customer = Owner::Customer(CustomerId::generate());
    let mut now = Utc::now();
    let w = World {
        db: db.clone(),
        partners: Vec::new(),
        customers: vec![customer],
        principal: Principal {
            user_id: Some(UserId::generate()),
            session_id: SessionId::generate(),
            actor: Actor::Operator,
            permissions: PermissionSet::empty(),
        },
        now,
    };
    let tx = db.begin_write().await.unwrap();
    let m = w.mutation();
    let top_up = Posting::transfer(
        Operation::TopUp,
        (Owner::Platform, Kind::ExternalFunding),
        (customer, Kind::CustomerCash),
        cny(1_000),
    )
    .unwrap();
    post(&*tx, &m, &top_up).await.unwrap();
    let cash = AccountKey::new(customer, Kind::CustomerCash, Currency::Cny);
    let first = holds::hold(&tx, &cash, cny(300), now + Duration::minutes(1), now)
        .await
        .unwrap();
    holds::hold(&tx, &cash, cny(200), now + Duration::minutes(1), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Past its expiry, not yet swept: it can only expire.
    now += Duration::minutes(2);
    let late = Mutation::new(
        w.principal.clone(),
        "test/LedgerModel",
        uuid::Uuid::new_v4(),
        [0; 32],
        now,
    );
    let tx = db.begin_write().await.unwrap();
    let refused = holds::capture(
        &tx,
        &late,
        first,
        cny(300),
        (Owner::Platform, Kind::Revenue),
        Operation::Fund,
    )
    .await;
    assert!(
        matches!(refused, Err(BillingError::HoldExpired)),
        "{refused:?}"
    );
    drop(tx);

    // A hold row whose id cannot be read is due first; the others still expire.
    use sea_orm::ConnectionTrait;
    db.conn()
        .execute_unprepared(&format!(
            "INSERT INTO ledger_holds (id, account_id, amount, state, captured, \
             capture_transaction_id, expires_at, created_at, resolved_at) \
             SELECT 'lhd_unreadable', account_id, 0, 'HELD', 0, NULL, '2000-01-01 00:00:00+00:00', \
             created_at, NULL FROM ledger_holds WHERE id = '{first}'"
        ))
        .await
        .unwrap();
    assert_eq!(expire_due(&db, now).await.unwrap(), 2);
    let account = account::Entity::find().all(db.conn()).await.unwrap();
    let cash = account.iter().find(|a| a.kind == "CUSTOMER_CASH").unwrap();
    assert_eq!((cash.balance, cash.pending), (1_000, 0));
}
