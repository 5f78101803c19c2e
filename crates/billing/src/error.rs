//! Billing errors and their one mapping to `Status`.

use partner_kernel::error::{FieldViolation, KernelError, Refusal};
use partner_kernel::money::Money;
use tonic::{Code, Status};

use crate::ledger::Kind;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// A debit would take the account below what its kind allows.
    #[error("insufficient funds in {kind:?}: {available} available")]
    InsufficientFunds { kind: Kind, available: Money },
    /// A balance would leave the range of 64-bit minor units.
    #[error("balance limit")]
    BalanceLimit,
    /// A posting that does not net to zero (a programming error).
    #[error("unbalanced posting")]
    Unbalanced,
    /// The customer pays the vendor itself: its partner moves no money.
    #[error("consultant-sale customer")]
    ConsultantSale,
    /// No such customer, or not the caller's.
    #[error("customer not found")]
    CustomerNotFound,
    /// No such partner.
    #[error("partner not found")]
    PartnerNotFound,
    /// A credit limit below the credit already used.
    #[error("credit in use: {used}")]
    CreditInUse { used: Money },
    /// A customer with money held for its orders cannot leave its partner
    /// (answered through the customers domain as CUSTOMER_HAS_HELD_FUNDS).
    #[error("held funds on leaving")]
    HeldFundsOnLeaving,
    /// The hold is past its expiry (not yet swept): it can only expire.
    #[error("hold expired")]
    HoldExpired,
    /// No such hold.
    #[error("hold not found")]
    HoldNotFound,
    /// The hold was already captured, released or expired.
    #[error("hold already resolved")]
    HoldResolved,
    /// This request id already moved money, under a key since forgotten:
    /// the ledger posts one request once, forever.
    #[error("request already posted")]
    RequestAlreadyPosted,
    /// A capture of more than the hold reserved (or in another currency).
    #[error("capture above the hold: {held}")]
    CaptureAboveHold { held: Money },
    /// No such payment agreement, or not one the caller takes part in.
    #[error("payment agreement not found")]
    AgreementNotFound,
    /// One is already pending or active between the payer and the payee.
    #[error("payment agreement exists")]
    AgreementExists,
    /// Only the payee accepts an agreement.
    #[error("not the payee")]
    NotThePayee,
    /// Only a pending agreement can be accepted.
    #[error("payment agreement is {state}")]
    AgreementNotPending { state: &'static str },
    /// The agreement is not active (pending or ended): it pays nothing.
    #[error("payment agreement is {state}")]
    AgreementNotActive { state: &'static str },
    /// The agreement has already ended.
    #[error("payment agreement terminated")]
    AgreementTerminated,
    /// The operator named no owner to read.
    #[error("owner required")]
    OwnerRequired,
    /// A partner named no customer to buy for.
    #[error("customer required")]
    CustomerRequired,
    /// The buyer is frozen: it buys nothing.
    #[error("customer frozen")]
    CustomerFrozen,
    /// The clock moves only in a sandbox.
    #[error("not a sandbox")]
    SandboxDisabled,
    /// The quote's validity ended.
    #[error("quote expired")]
    QuoteExpired,
    /// The customer's budget cannot hold the order beside those waiting.
    #[error("budget exceeded: {left} left")]
    BudgetExceeded { left: Money },
    /// The discount is not one in force for the order's customer (or the
    /// order already has the quote's).
    #[error("discount not applicable")]
    DiscountNotApplicable,
    /// The coupon is not usable for this order now.
    #[error("coupon {coupon} not usable")]
    CouponNotUsable {
        coupon: partner_kernel::ids::CouponId,
    },
    /// A renewal names resources of more than one customer.
    #[error("resources of many customers")]
    ResourcesOfManyCustomers,
    /// A change costs nothing or less: only upgrades are sold.
    #[error("not an upgrade")]
    NotAnUpgrade,
    /// The resource is not in use within a paid period.
    #[error("resource not in use")]
    ResourceNotInUse,
    /// The order has a discount other than a price adjustment.
    #[error("order discounted")]
    OrderDiscounted,
    /// The order's price was adjusted: it is paid with that adjustment.
    #[error("price adjusted")]
    PriceAdjusted,
    /// The order changed between reading it and writing it.
    #[error("order changed")]
    OrderChanged,
    /// A child resource takes no action alone: its main resource does.
    #[error("resource {resource} is a child of {main}")]
    ChildResource { resource: String, main: String },
    /// No line of the paid order could be opened: nothing was paid.
    #[error("nothing opened: {reason}")]
    NothingOpened { reason: String },
    /// No such resource, or not one the caller reaches.
    #[error("resource not found")]
    ResourceNotFound,
    /// An adjustment names a cycle that has not begun.
    #[error("cycle {cycle} has not begun")]
    CycleNotStarted { cycle: String },
    /// A credit above what the cycle billed the customer, net.
    #[error("at most {creditable} is credited")]
    AdjustmentAboveBilled { creditable: Money },
    /// No such order, or not one the caller reaches.
    #[error("order not found")]
    OrderNotFound,
    /// Only an order waiting for payment (before its deadline) is cancelled.
    #[error("order is {state}")]
    OrderNotPendingPayment { state: &'static str },
    /// The operator named no partner whose quotas to read.
    #[error("partner required")]
    PartnerRequired,
    /// No such coupon quota, or not the caller's.
    #[error("coupon quota not found")]
    QuotaNotFound,
    /// The quota is paused or ended: it issues and gives nothing.
    #[error("coupon quota is {state}")]
    QuotaNotUsable { state: &'static str },
    /// The quota's validity has ended.
    #[error("coupon quota expired")]
    QuotaExpired,
    /// An ended quota's state does not change again.
    #[error("coupon quota invalid")]
    QuotaInvalid,
    /// No such coupon, or not the caller's.
    #[error("coupon not found")]
    CouponNotFound,
    /// The coupon was used up, reclaimed or expired.
    #[error("coupon is {state}")]
    CouponNotReclaimable { state: &'static str },
    /// A coupon asked for outside what its quota allows.
    #[error("{field}: {message}")]
    OutsideQuota {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Customers(#[from] partner_customers::CustomersError),
    #[error(transparent)]
    Pricing(#[from] partner_pricing::PricingError),
    #[error(transparent)]
    Accounts(#[from] partner_accounts::AccountsError),
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

impl From<sea_orm::DbErr> for BillingError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl From<BillingError> for Status {
    fn from(e: BillingError) -> Status {
        let refusal = match e {
            BillingError::InsufficientFunds {
                kind: Kind::CouponQuota,
                available,
            } => Refusal::new(
                Code::FailedPrecondition,
                "QUOTA_INSUFFICIENT",
                format!("only {available} is left in the coupon quota"),
            )
            .with("available", available.to_string()),
            BillingError::InsufficientFunds { kind, available } => Refusal::new(
                Code::FailedPrecondition,
                "INSUFFICIENT_FUNDS",
                format!(
                    "only {available} is available in the {} account",
                    kind.as_str()
                ),
            )
            .with("account_kind", kind.as_str())
            .with("available", available.to_string()),
            BillingError::BalanceLimit => Refusal::new(
                Code::FailedPrecondition,
                "BALANCE_LIMIT",
                "the balance would leave the range the ledger keeps",
            ),
            BillingError::Unbalanced => Refusal::internal(&"unbalanced posting"),
            BillingError::ConsultantSale => Refusal::new(
                Code::FailedPrecondition,
                "CONSULTANT_SALE_CUSTOMER",
                "the customer pays the vendor itself (consultant sale): its partner moves no money for it",
            ),
            BillingError::CustomerNotFound => {
                Refusal::new(Code::NotFound, "CUSTOMER_NOT_FOUND", "customer not found")
            }
            BillingError::PartnerNotFound => {
                Refusal::new(Code::NotFound, "PARTNER_NOT_FOUND", "partner not found")
            }
            BillingError::CreditInUse { used } => Refusal::new(
                Code::FailedPrecondition,
                "CREDIT_IN_USE",
                format!("the partner already uses {used} of credit"),
            )
            .with("used", used.to_string()),
            BillingError::HeldFundsOnLeaving => Refusal::new(
                Code::FailedPrecondition,
                "CUSTOMER_HAS_HELD_FUNDS",
                "money is held for the customer's orders: pay or cancel them first",
            ),
            BillingError::HoldExpired => Refusal::new(
                Code::FailedPrecondition,
                "HOLD_EXPIRED",
                "the hold is past its expiry",
            ),
            BillingError::HoldNotFound => {
                Refusal::new(Code::NotFound, "HOLD_NOT_FOUND", "hold not found")
            }
            BillingError::HoldResolved => Refusal::new(
                Code::FailedPrecondition,
                "HOLD_RESOLVED",
                "the hold was already captured, released or expired",
            ),
            BillingError::RequestAlreadyPosted => Refusal::new(
                Code::AlreadyExists,
                "REQUEST_ALREADY_POSTED",
                "this request id moved money before (its answer is no longer kept); use a new request id",
            ),
            BillingError::CaptureAboveHold { held } => Refusal::new(
                Code::FailedPrecondition,
                "CAPTURE_ABOVE_HOLD",
                format!("at most {held} of the hold can be captured"),
            )
            .with("held", held.to_string()),
            BillingError::AgreementNotFound => Refusal::new(
                Code::NotFound,
                "AGREEMENT_NOT_FOUND",
                "payment agreement not found",
            ),
            BillingError::AgreementExists => Refusal::new(
                Code::AlreadyExists,
                "AGREEMENT_EXISTS",
                "a payment agreement between the two is already pending or active",
            ),
            BillingError::NotThePayee => Refusal::new(
                Code::PermissionDenied,
                "NOT_THE_PAYEE",
                "only the payee accepts a payment agreement",
            ),
            BillingError::AgreementNotPending { state } => Refusal::new(
                Code::FailedPrecondition,
                "AGREEMENT_NOT_PENDING",
                format!("the payment agreement is {state}; only a pending one is accepted"),
            )
            .with("state", state),
            BillingError::AgreementNotActive { state } => Refusal::new(
                Code::FailedPrecondition,
                "AGREEMENT_NOT_ACTIVE",
                format!("the payment agreement is {state}: only an active one pays"),
            )
            .with("state", state),
            BillingError::AgreementTerminated => Refusal::new(
                Code::FailedPrecondition,
                "AGREEMENT_TERMINATED",
                "the payment agreement has already ended",
            ),
            BillingError::OwnerRequired => Refusal::invalid(vec![FieldViolation::new(
                "partner_id",
                "name the partner_id or the customer_id whose accounts to read",
            )]),
            BillingError::CustomerRequired => Refusal::invalid(vec![FieldViolation::new(
                "customer_id",
                "name the customer to buy for",
            )]),
            BillingError::CustomerFrozen => Refusal::new(
                Code::FailedPrecondition,
                "CUSTOMER_FROZEN",
                "the customer is frozen: it buys nothing until it is unfrozen",
            ),
            BillingError::SandboxDisabled => Refusal::new(
                Code::FailedPrecondition,
                "SANDBOX_DISABLED",
                "the platform clock moves only in a sandbox (PARTNER_SANDBOX=1)",
            ),
            BillingError::QuoteExpired => Refusal::new(
                Code::FailedPrecondition,
                "QUOTE_EXPIRED",
                "the quote's validity has ended: rate again or make a new quote",
            ),
            BillingError::BudgetExceeded { left } => Refusal::new(
                Code::FailedPrecondition,
                "BUDGET_EXCEEDED",
                format!(
                    "the customer's budget has {left} left beside the orders waiting for payment"
                ),
            )
            .with("left", left.to_string()),
            BillingError::DiscountNotApplicable => Refusal::new(
                Code::FailedPrecondition,
                "DISCOUNT_NOT_APPLICABLE",
                "the discount is not one in force for the order's customer, or the order already has its quote's",
            ),
            BillingError::CouponNotUsable { coupon } => Refusal::new(
                Code::FailedPrecondition,
                "COUPON_NOT_USABLE",
                "the coupon cannot pay this order now: not within its validity, closed, or covering none of what is left to pay",
            )
            .with("coupon_id", coupon.to_string()),
            BillingError::ResourcesOfManyCustomers => Refusal::new(
                Code::FailedPrecondition,
                "RESOURCES_OF_MANY_CUSTOMERS",
                "one renewal renews resources of one customer",
            ),
            BillingError::NotAnUpgrade => Refusal::new(
                Code::FailedPrecondition,
                "NOT_AN_UPGRADE",
                "the change costs nothing or less: only changes to a dearer spec or size are sold (downgrade by unsubscribing and buying anew)",
            ),
            BillingError::ResourceNotInUse => Refusal::new(
                Code::FailedPrecondition,
                "RESOURCE_NOT_IN_USE",
                "only a resource in use within its paid period is changed",
            ),
            BillingError::OrderDiscounted => Refusal::new(
                Code::FailedPrecondition,
                "ORDER_DISCOUNTED",
                "the order has its quote's discount: its price is not adjusted",
            ),
            BillingError::PriceAdjusted => Refusal::new(
                Code::FailedPrecondition,
                "PRICE_ADJUSTED",
                "the order's price was adjusted (609): it is paid with that adjustment and no other discount",
            ),
            BillingError::OrderChanged => Refusal::new(
                Code::Aborted,
                "ORDER_CHANGED",
                "the order changed meanwhile (its price was adjusted): read it again and retry",
            ),
            BillingError::ChildResource { resource, main } => Refusal::new(
                Code::FailedPrecondition,
                "CHILD_RESOURCE",
                format!(
                    "resource {resource} is a child of {main}: it is renewed, unsubscribed and set with its main resource"
                ),
            )
            .with("resource_id", resource)
            .with("main_resource_id", main),
            BillingError::NothingOpened { reason } => Refusal::new(
                Code::Unavailable,
                "RESOURCES_UNAVAILABLE",
                format!("no resource of the order could be opened, so nothing was paid: {reason}"),
            ),
            BillingError::ResourceNotFound => {
                Refusal::new(Code::NotFound, "RESOURCE_NOT_FOUND", "resource not found")
            }
            BillingError::CycleNotStarted { cycle } => Refusal::new(
                Code::FailedPrecondition,
                "CYCLE_NOT_STARTED",
                format!("cycle {cycle} has not begun: there is nothing of it to adjust"),
            )
            .with("cycle", cycle),
            BillingError::AdjustmentAboveBilled { creditable } => Refusal::new(
                Code::FailedPrecondition,
                "ADJUSTMENT_ABOVE_BILLED",
                format!(
                    "the cycle billed the customer {creditable} net of earlier adjustments: no more is credited"
                ),
            )
            .with("creditable", creditable.to_string()),
            BillingError::OrderNotFound => {
                Refusal::new(Code::NotFound, "ORDER_NOT_FOUND", "order not found")
            }
            BillingError::OrderNotPendingPayment { state } => Refusal::new(
                Code::FailedPrecondition,
                "ORDER_NOT_PENDING_PAYMENT",
                format!("the order is {state}: only an order waiting for payment is cancelled"),
            )
            .with("state", state),
            BillingError::Pricing(e) => return e.into(),
            BillingError::PartnerRequired => Refusal::invalid(vec![FieldViolation::new(
                "partner_id",
                "name the partner whose quotas to read",
            )]),
            BillingError::QuotaNotFound => {
                Refusal::new(Code::NotFound, "QUOTA_NOT_FOUND", "coupon quota not found")
            }
            BillingError::QuotaNotUsable { state } => Refusal::new(
                Code::FailedPrecondition,
                "QUOTA_NOT_USABLE",
                format!("the coupon quota is {state}: it issues and gives nothing"),
            )
            .with("state", state),
            BillingError::QuotaExpired => Refusal::new(
                Code::FailedPrecondition,
                "QUOTA_EXPIRED",
                "the coupon quota's validity has ended",
            ),
            BillingError::QuotaInvalid => Refusal::new(
                Code::FailedPrecondition,
                "QUOTA_INVALID",
                "the coupon quota has ended; its state does not change again",
            ),
            BillingError::CouponNotFound => {
                Refusal::new(Code::NotFound, "COUPON_NOT_FOUND", "coupon not found")
            }
            BillingError::CouponNotReclaimable { state } => Refusal::new(
                Code::FailedPrecondition,
                "COUPON_NOT_RECLAIMABLE",
                format!("the coupon is {state}: nothing is left to reclaim"),
            )
            .with("state", state),
            BillingError::OutsideQuota { field, message } => {
                Refusal::invalid(vec![FieldViolation::new(field, message)])
            }
            BillingError::Customers(e) => return e.into(),
            BillingError::Accounts(e) => return e.into(),
            BillingError::Kernel(e) => Refusal::from(e),
        };
        refusal.into()
    }
}
