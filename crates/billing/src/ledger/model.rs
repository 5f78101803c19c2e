//! The ledger's vocabulary and the rules a posting must keep before it
//! touches the database: legs in one account each, none zero, netting to
//! zero per currency with checked arithmetic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use partner_api::billing::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CouponId, CouponQuotaId, CustomerId, PartnerId};
use partner_kernel::money::{Currency, Money};

use crate::error::BillingError;

partner_kernel::state_enum!(
    /// What an account holds.
    Kind, "account kind", AccountKind {
        /// The platform: money that entered from outside.
        ExternalFunding = "EXTERNAL_FUNDING",
        /// A partner's cash.
        PartnerCash = "PARTNER_CASH",
        /// A partner's credit line.
        PartnerCredit = "PARTNER_CREDIT",
        /// What a distributor set aside for its resellers.
        PartnerAllocatable = "PARTNER_ALLOCATABLE",
        /// A customer's cash balance.
        CustomerCash = "CUSTOMER_CASH",
        /// A customer's credit line.
        CustomerCredit = "CUSTOMER_CREDIT",
        /// A customer's bonus balance.
        CustomerBonus = "CUSTOMER_BONUS",
        /// A customer's deposit.
        CustomerDeposit = "CUSTOMER_DEPOSIT",
        /// One issued coupon's remaining value (owned by the coupon).
        CouponLiability = "COUPON_LIABILITY",
        /// The platform: what customers paid.
        Revenue = "REVENUE",
        /// The platform: coupons that expired unused.
        Breakage = "BREAKAGE",
        /// One coupon quota's balance: what its partner may still issue
        /// (owned by the quota).
        CouponQuota = "COUPON_QUOTA",
        /// The platform: the promotional budget behind coupon quotas.
        Promotion = "PROMOTION",
        /// What a customer owes beyond its cash and credit: on-demand use
        /// charged when nothing was left (never above zero).
        CustomerArrears = "CUSTOMER_ARREARS",
    }
);

impl Kind {
    /// The lowest balance − pending the account may reach, given its credit
    /// limit; `None`: unbounded (external funding mirrors all money in).
    pub fn floor(self, credit_limit: i64) -> Option<i64> {
        match self {
            Kind::ExternalFunding | Kind::Promotion | Kind::CustomerArrears => None,
            Kind::PartnerCredit | Kind::CustomerCredit => Some(-credit_limit),
            Kind::PartnerCash
            | Kind::PartnerAllocatable
            | Kind::CustomerCash
            | Kind::CustomerBonus
            | Kind::CustomerDeposit
            | Kind::CouponLiability
            | Kind::Revenue
            | Kind::Breakage
            | Kind::CouponQuota => Some(0),
        }
    }
}

/// Whose money an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// The platform's own accounts (external funding, revenue, …).
    Platform,
    Partner(PartnerId),
    Customer(CustomerId),
    /// A coupon quota's own balance.
    Quota(CouponQuotaId),
    /// An issued coupon's remaining value.
    Coupon(CouponId),
}

impl Owner {
    /// The stored and wire form of the platform owner.
    pub const PLATFORM: &'static str = "platform";

    /// Reads a stored owner; anything else is corruption.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        if s == Self::PLATFORM {
            return Ok(Owner::Platform);
        }
        if let Ok(p) = PartnerId::parse(s) {
            return Ok(Owner::Partner(p));
        }
        if let Ok(c) = CustomerId::parse(s) {
            return Ok(Owner::Customer(c));
        }
        if let Ok(q) = CouponQuotaId::parse(s) {
            return Ok(Owner::Quota(q));
        }
        CouponId::parse(s)
            .map(Owner::Coupon)
            .map_err(|e| KernelError::Corrupt(format!("account owner {s:?}: {e}")))
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Platform => f.write_str(Self::PLATFORM),
            Owner::Partner(p) => p.fmt(f),
            Owner::Customer(c) => c.fmt(f),
            Owner::Quota(q) => q.fmt(f),
            Owner::Coupon(c) => c.fmt(f),
        }
    }
}

/// The business operation a journal transaction records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// The operator credits money a partner paid in.
    TopUp,
    /// A partner funds its customer (拨款).
    Fund,
    /// A partner takes money back from its customer.
    Reclaim,
    /// A customer left its partner: the money the partner funded returns.
    ReclaimOnDisassociation,
    /// A distributor funds its reseller.
    FundReseller,
    /// A distributor takes money back from its reseller.
    ReclaimReseller,
    /// The operator grants a partner a coupon quota (promotion → quota).
    QuotaGrant,
    /// The operator ends a quota: its balance returns to the promotion.
    QuotaInvalidate,
    /// A distributor gives part of its quota to a reseller.
    QuotaGive,
    /// A distributor takes quota back from a reseller.
    QuotaTakeBack,
    /// Coupons issued from a quota (quota → each coupon).
    CouponIssue,
    /// A coupon's remaining value back to its quota.
    CouponReclaim,
    /// A leaving customer's coupons back to their quotas.
    CouponReclaimOnDisassociation,
    /// An expired coupon's remaining value to breakage.
    CouponExpiry,
    /// What paid an order (coupons, cash, credit) taken as revenue.
    OrderPayment,
    /// What unsubscribing refunds, out of revenue into the accounts that
    /// paid.
    OrderRefund,
    /// An hourly settlement's charge for on-demand use: cash, then credit,
    /// then arrears, into revenue.
    UsageCharge,
    /// Cash or credit that came in pays what a customer owes.
    ArrearsRepayment,
    /// The operator corrects a closed bill: a charge (cash, then credit,
    /// then arrears, into revenue) or a credit (revenue into cash).
    BillAdjustment,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::TopUp => "TOP_UP",
            Operation::Fund => "FUND",
            Operation::Reclaim => "RECLAIM",
            Operation::ReclaimOnDisassociation => "RECLAIM_ON_DISASSOCIATION",
            Operation::FundReseller => "FUND_RESELLER",
            Operation::ReclaimReseller => "RECLAIM_RESELLER",
            Operation::QuotaGrant => "COUPON_QUOTA_GRANT",
            Operation::QuotaInvalidate => "COUPON_QUOTA_INVALIDATE",
            Operation::QuotaGive => "COUPON_QUOTA_GIVE",
            Operation::QuotaTakeBack => "COUPON_QUOTA_TAKE_BACK",
            Operation::CouponIssue => "COUPON_ISSUE",
            Operation::CouponReclaim => "COUPON_RECLAIM",
            Operation::CouponReclaimOnDisassociation => "COUPON_RECLAIM_ON_DISASSOCIATION",
            Operation::CouponExpiry => "COUPON_EXPIRY",
            Operation::OrderPayment => "ORDER_PAYMENT",
            Operation::OrderRefund => "ORDER_REFUND",
            Operation::UsageCharge => "USAGE_CHARGE",
            Operation::ArrearsRepayment => "ARREARS_REPAYMENT",
            Operation::BillAdjustment => "BILL_ADJUSTMENT",
        }
    }
}

/// One account's movement: above zero in, below zero out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    pub owner: Owner,
    pub kind: Kind,
    pub amount: Money,
}

impl Leg {
    pub fn new(owner: Owner, kind: Kind, amount: Money) -> Self {
        Self {
            owner,
            kind,
            amount,
        }
    }
}

/// One journal transaction to write.
#[derive(Debug, Clone)]
pub struct Posting {
    pub operation: Operation,
    /// The partner whose operation it is, if any.
    pub partner: Option<PartnerId>,
    /// The customer it concerns, if any.
    pub customer: Option<CustomerId>,
    pub reason: String,
    /// What the operation moved, as its records show it (above zero).
    pub amount: Money,
    pub legs: Vec<Leg>,
}

impl Posting {
    /// `amount` (above zero) moved from one account to another.
    pub fn transfer(
        operation: Operation,
        from: (Owner, Kind),
        to: (Owner, Kind),
        amount: Money,
    ) -> Result<Self, BillingError> {
        if !amount.is_positive() {
            return Err(BillingError::Unbalanced);
        }
        let out = amount.checked_neg().map_err(|_| BillingError::Unbalanced)?;
        Ok(Self {
            operation,
            partner: None,
            customer: None,
            reason: String::new(),
            amount,
            legs: vec![Leg::new(from.0, from.1, out), Leg::new(to.0, to.1, amount)],
        })
    }

    /// Amounts (each above zero) out of the accounts `outs` and into the
    /// accounts `ins`; the posting's amount is what went in. Refused unless
    /// both sides are equal (checked arithmetic).
    pub fn between(
        operation: Operation,
        outs: Vec<(Owner, Kind, Money)>,
        ins: Vec<(Owner, Kind, Money)>,
    ) -> Result<Self, BillingError> {
        let Some(first) = ins.first() else {
            return Err(BillingError::Unbalanced);
        };
        let mut amount = Money::zero(first.2.currency());
        let mut legs = Vec::with_capacity(outs.len() + ins.len());
        for (owner, kind, m) in ins {
            if !m.is_positive() {
                return Err(BillingError::Unbalanced);
            }
            amount = amount
                .checked_add(m)
                .map_err(|_| BillingError::Unbalanced)?;
            legs.push(Leg::new(owner, kind, m));
        }
        for (owner, kind, m) in outs {
            if !m.is_positive() {
                return Err(BillingError::Unbalanced);
            }
            let out = m.checked_neg().map_err(|_| BillingError::Unbalanced)?;
            legs.push(Leg::new(owner, kind, out));
        }
        Ok(Self {
            operation,
            partner: None,
            customer: None,
            reason: String::new(),
            amount,
            legs,
        })
    }

    pub fn of_partner(mut self, partner: PartnerId) -> Self {
        self.partner = Some(partner);
        self
    }

    pub fn of_customer(mut self, customer: CustomerId) -> Self {
        self.customer = Some(customer);
        self
    }

    pub fn because(mut self, reason: String) -> Self {
        self.reason = reason;
        self
    }

    /// Refuses a posting that would break the ledger's invariants: fewer
    /// than two legs, a zero leg, one account twice, legs in more than one
    /// currency, or legs that do not net to zero (M1, M11). These are
    /// programming errors, never a caller's.
    pub fn check(&self) -> Result<(), BillingError> {
        if self.legs.len() < 2
            || !self.amount.is_positive()
            || self
                .legs
                .iter()
                .any(|l| l.amount.currency() != self.amount.currency())
        {
            return Err(BillingError::Unbalanced);
        }
        let mut seen = BTreeSet::new();
        let mut nets: BTreeMap<Currency, Money> = BTreeMap::new();
        for leg in &self.legs {
            let currency = leg.amount.currency();
            if leg.amount.minor() == 0 || !seen.insert((leg.owner, leg.kind.as_str(), currency)) {
                return Err(BillingError::Unbalanced);
            }
            let net = nets.entry(currency).or_insert(Money::zero(currency));
            *net = net
                .checked_add(leg.amount)
                .map_err(|_| BillingError::Unbalanced)?;
        }
        if nets.values().all(|n| n.minor() == 0) {
            Ok(())
        } else {
            Err(BillingError::Unbalanced)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cny(minor: i64) -> Money {
        Money::from_minor(Currency::Cny, minor)
    }

    fn partner() -> Owner {
        Owner::Partner(PartnerId::generate())
    }

    #[test]
    fn a_transfer_nets_to_zero() {
        let p = Posting::transfer(
            Operation::TopUp,
            (Owner::Platform, Kind::ExternalFunding),
            (partner(), Kind::PartnerCash),
            cny(100),
        )
        .unwrap();
        assert!(p.check().is_ok());
    }

    #[test]
    fn refuses_what_breaks_the_ledger() {
        let owner = partner();
        let leg = |kind, minor| Leg::new(owner, kind, cny(minor));
        let posting = |legs| Posting {
            operation: Operation::Fund,
            partner: None,
            customer: None,
            reason: String::new(),
            amount: cny(1),
            legs,
        };
        // One leg, a zero leg, unbalanced legs, one account twice, mixed currencies.
        assert!(posting(vec![leg(Kind::PartnerCash, 0)]).check().is_err());
        assert!(
            posting(vec![leg(Kind::PartnerCash, 0), leg(Kind::CustomerCash, 0)])
                .check()
                .is_err()
        );
        assert!(
            posting(vec![leg(Kind::PartnerCash, -5), leg(Kind::CustomerCash, 4)])
                .check()
                .is_err()
        );
        assert!(
            posting(vec![leg(Kind::PartnerCash, -5), leg(Kind::PartnerCash, 5),])
                .check()
                .is_err()
        );
        let usd = Leg::new(
            owner,
            Kind::CustomerCash,
            Money::from_minor(Currency::Usd, 5),
        );
        assert!(
            posting(vec![leg(Kind::PartnerCash, -5), usd])
                .check()
                .is_err()
        );
        // Overflowing sums are refused, not wrapped.
        assert!(
            posting(vec![
                leg(Kind::PartnerCash, i64::MAX),
                leg(Kind::CustomerCash, i64::MAX),
                leg(Kind::Revenue, 2),
            ])
            .check()
            .is_err()
        );
        assert!(
            Posting::transfer(
                Operation::Fund,
                (owner, Kind::PartnerCash),
                (owner, Kind::CustomerCash),
                cny(i64::MIN)
            )
            .is_err()
        );
    }

    #[test]
    fn a_transfer_moves_an_amount_above_zero_in_one_currency() {
        let owner = partner();
        let transfer = |minor| {
            Posting::transfer(
                Operation::Fund,
                (owner, Kind::PartnerCash),
                (owner, Kind::CustomerCash),
                cny(minor),
            )
        };
        assert!(transfer(0).is_err());
        assert!(transfer(-5).is_err());
        let mut two = transfer(5).unwrap();
        two.legs.push(Leg::new(
            owner,
            Kind::Revenue,
            Money::from_minor(Currency::Usd, 5),
        ));
        two.legs.push(Leg::new(
            Owner::Platform,
            Kind::ExternalFunding,
            Money::from_minor(Currency::Usd, -5),
        ));
        // Each currency nets to zero, but a posting moves one currency.
        assert!(two.check().is_err());
    }

    #[test]
    fn floors_by_kind() {
        assert_eq!(Kind::ExternalFunding.floor(0), None);
        assert_eq!(Kind::PartnerCash.floor(500), Some(0));
        assert_eq!(Kind::PartnerCredit.floor(500), Some(-500));
    }

    proptest! {
        #[test]
        fn balanced_legs_pass_and_any_skew_fails(
            amounts in proptest::collection::vec(1i64..1_000_000_000, 1..6),
            skew in 1i64..1000,
        ) {
            let kinds = [Kind::PartnerCash, Kind::CustomerCash, Kind::CustomerBonus, Kind::Revenue, Kind::CouponLiability, Kind::Breakage];
            let owner = partner();
            let mut legs: Vec<Leg> = amounts.iter().zip(kinds).map(|(a, k)| Leg::new(owner, k, cny(*a))).collect();
            let total: i64 = amounts.iter().sum();
            legs.push(Leg::new(Owner::Platform, Kind::ExternalFunding, cny(-total)));
            let mut posting = Posting { operation: Operation::TopUp, partner: None, customer: None, reason: String::new(), amount: cny(total), legs };
            prop_assert!(posting.check().is_ok());
            posting.legs[0].amount = cny(amounts[0] + skew);
            prop_assert!(posting.check().is_err());
        }
    }
}
