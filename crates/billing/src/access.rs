//! Who may call each RPC of the billing domain.

use partner_kernel::access::{Access, DomainAccess, Effect, Rule, rule};
use partner_kernel::permission::{JobRole, Permission};

const DOMAIN: &str = "billing";

/// Read the partner's and its customers' balances and movements.
pub const FUNDS_READ: Permission = Permission::partner(
    "funds.read",
    DOMAIN,
    "Read the balances and account movements of the partner and its customers.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Fund customers and take money back from them.
pub const FUNDS_TRANSFER: Permission = Permission::partner(
    "funds.transfer",
    DOMAIN,
    "Fund the partner's RESELLER customers from its cash, and reclaim from them.",
    &[JobRole::Finance],
);

/// A customer reads its own balances and movements.
pub const SELF_FUNDS_READ: Permission = Permission::customer(
    "self.funds.read",
    DOMAIN,
    "Read the customer's own balances and account movements.",
    true,
);

/// A customer accepts and ends the payment agreements in which it is paid
/// for (itself: an assumed token does not carry it).
pub const SELF_AGREEMENTS_MANAGE: Permission = Permission::customer(
    "self.payment_agreements.manage",
    DOMAIN,
    "Accept and end the payment-on-behalf agreements in which the customer's orders are paid for.",
    false,
);

/// Read the partner's coupon quotas, issued coupons and their records.
pub const COUPONS_READ: Permission = Permission::partner(
    "coupons.read",
    DOMAIN,
    "Read the partner's coupon quotas, the coupons it issued, and their records.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Issue and reclaim coupons; give quota to resellers and take it back.
pub const COUPONS_MANAGE: Permission = Permission::partner(
    "coupons.manage",
    DOMAIN,
    "Issue coupons to the partner's RESELLER customers and reclaim them; give coupon quota to resellers and take it back.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// A customer reads its own coupons.
pub const SELF_COUPONS_READ: Permission = Permission::customer(
    "self.coupons.read",
    DOMAIN,
    "Read the customer's own coupons.",
    true,
);

/// Grant partners coupon quotas, and pause, resume or end them.
pub const PLATFORM_COUPONS_MANAGE: Permission = Permission::platform(
    "platform.coupons.manage",
    DOMAIN,
    "Grant partners coupon quotas from the promotional budget; pause, resume or end them.",
);

/// Read the orders of the partner's customers.
pub const ORDERS_READ: Permission = Permission::partner(
    "orders.read",
    DOMAIN,
    "Read the orders of the partner's customers and the resources they opened.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// Create and cancel orders for the partner's customers.
pub const ORDERS_MANAGE: Permission = Permission::partner(
    "orders.manage",
    DOMAIN,
    "Create, pay and cancel orders for the partner's customers.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// A customer reads its own orders.
pub const SELF_ORDERS_READ: Permission = Permission::customer(
    "self.orders.read",
    DOMAIN,
    "Read the customer's own orders and resources.",
    true,
);

/// A customer creates and cancels its own orders (a partner acting as it
/// may, as the vendor's agent purchase).
pub const SELF_ORDERS_MANAGE: Permission = Permission::customer(
    "self.orders.manage",
    DOMAIN,
    "Create, pay and cancel the customer's own orders.",
    true,
);

/// Read the bills of the partner's customers.
pub const BILLS_READ: Permission = Permission::partner(
    "bills.read",
    DOMAIN,
    "Read the monthly bills, fee records and usage details of the partner's customers, and export them.",
    &[JobRole::Sales, JobRole::Finance, JobRole::Operations],
);

/// A customer reads its own bills.
pub const SELF_BILLS_READ: Permission = Permission::customer(
    "self.bills.read",
    DOMAIN,
    "Read the customer's own monthly bills, fee records and usage details, and export them.",
    true,
);

/// Read every balance and movement, and reconcile the ledger.
pub const PLATFORM_FUNDS_READ: Permission = Permission::platform(
    "platform.funds.read",
    DOMAIN,
    "Read every partner's and customer's balances and movements; reconcile the ledger.",
);

/// Credit money partners paid in.
pub const PLATFORM_FUNDS_MANAGE: Permission = Permission::platform(
    "platform.funds.manage",
    DOMAIN,
    "Credit money partners paid in to their cash accounts.",
);

/// Move a sandbox's platform clock.
pub const PLATFORM_SANDBOX_MANAGE: Permission = Permission::platform(
    "platform.sandbox.manage",
    DOMAIN,
    "Move a sandbox's platform clock forward, running the jobs for the time crossed.",
);

/// Adjust the price of an order waiting for payment.
pub const PLATFORM_ORDERS_ADJUST: Permission = Permission::platform(
    "platform.orders.adjust",
    DOMAIN,
    "Adjust the price of any customer's order waiting for payment (the vendor's 609 discount).",
);

/// Correct customers' bills with adjustments.
pub const PLATFORM_BILLS_ADJUST: Permission = Permission::platform(
    "platform.bills.adjust",
    DOMAIN,
    "Correct any customer's bill with an adjustment (a charge or a credit) in the cycle open now.",
);

/// Report usage of on-demand resources (the cloud services that meter it).
pub const PLATFORM_USAGE_REPORT: Permission = Permission::platform(
    "platform.usage.report",
    DOMAIN,
    "Report usage of on-demand resources, as the cloud services that meter it.",
);

const PERMISSIONS: &[Permission] = &[
    PLATFORM_SANDBOX_MANAGE,
    PLATFORM_USAGE_REPORT,
    PLATFORM_ORDERS_ADJUST,
    PLATFORM_BILLS_ADJUST,
    FUNDS_READ,
    FUNDS_TRANSFER,
    SELF_FUNDS_READ,
    SELF_AGREEMENTS_MANAGE,
    PLATFORM_FUNDS_READ,
    PLATFORM_FUNDS_MANAGE,
    COUPONS_READ,
    COUPONS_MANAGE,
    SELF_COUPONS_READ,
    PLATFORM_COUPONS_MANAGE,
    ORDERS_READ,
    ORDERS_MANAGE,
    SELF_ORDERS_READ,
    SELF_ORDERS_MANAGE,
    BILLS_READ,
    SELF_BILLS_READ,
];

const FUNDS_READERS: Access = Access::AnyOf(&[FUNDS_READ, SELF_FUNDS_READ, PLATFORM_FUNDS_READ]);
const TRANSFERS: Access = Access::AnyOf(&[FUNDS_TRANSFER]);
const AGREEMENT_PARTIES: Access = Access::AnyOf(&[FUNDS_TRANSFER, SELF_AGREEMENTS_MANAGE]);

pub const RULES: &[Rule] = &[
    rule(
        "partner.billing.v1.FundsService/TopUpPartner",
        Access::AnyOf(&[PLATFORM_FUNDS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.FundsService/TransferToCustomer",
        TRANSFERS,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.FundsService/ReclaimFromCustomer",
        TRANSFERS,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.FundsService/GetBalances",
        FUNDS_READERS,
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.FundsService/ListAccountEntries",
        FUNDS_READERS,
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.FundsService/TransferToReseller",
        TRANSFERS,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.FundsService/ReclaimFromReseller",
        TRANSFERS,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.FundsService/SetPartnerCreditLimit",
        Access::AnyOf(&[PLATFORM_FUNDS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.FundsService/BatchGetCustomerBalances",
        Access::AnyOf(&[FUNDS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.FundsService/GetBalanceAt",
        FUNDS_READERS,
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.FundsService/ListAdjustRecords",
        Access::AnyOf(&[FUNDS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.PaymentAgreementService/CreatePaymentAgreement",
        TRANSFERS,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.PaymentAgreementService/AcceptPaymentAgreement",
        AGREEMENT_PARTIES,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.PaymentAgreementService/TerminatePaymentAgreement",
        AGREEMENT_PARTIES,
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.PaymentAgreementService/GetPaymentAgreement",
        Access::AnyOf(&[FUNDS_READ, SELF_FUNDS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.PaymentAgreementService/ListPaymentAgreements",
        Access::AnyOf(&[FUNDS_READ, SELF_FUNDS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.CouponService/GrantCouponQuota",
        Access::AnyOf(&[PLATFORM_COUPONS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.CouponService/SetCouponQuotaState",
        Access::AnyOf(&[PLATFORM_COUPONS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.CouponService/GiveQuotaToReseller",
        Access::AnyOf(&[COUPONS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.CouponService/TakeBackQuotaFromReseller",
        Access::AnyOf(&[COUPONS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.CouponService/ListCouponQuotas",
        Access::AnyOf(&[COUPONS_READ, PLATFORM_FUNDS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.CouponService/ListQuotaRecords",
        Access::AnyOf(&[COUPONS_READ, PLATFORM_FUNDS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.CouponService/IssueCoupons",
        Access::AnyOf(&[COUPONS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.CouponService/ReclaimCoupon",
        Access::AnyOf(&[COUPONS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.CouponService/ListIssuedCoupons",
        Access::AnyOf(&[COUPONS_READ, SELF_COUPONS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.CouponService/ListCouponRecords",
        Access::AnyOf(&[COUPONS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.OrderService/CreateOrder",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.OrderService/PayOrder",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.OrderService/CancelOrder",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.OrderService/AdjustOrderPrice",
        Access::AnyOf(&[PLATFORM_ORDERS_ADJUST]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.OrderService/ListOrderDiscounts",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.OrderService/ListOrderCoupons",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.OrderService/GetOrder",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.OrderService/ListOrders",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.ResourceService/PreviewRenewal",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.ResourceService/RenewResources",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.ResourceService/PreviewUnsubscribe",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.ResourceService/UnsubscribeResources",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.ResourceService/SetAutoRenew",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.ResourceService/CancelAutoRenew",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.ResourceService/SetExpiryPolicy",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.ResourceService/SwitchToOnDemandNow",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.ResourceService/GetResource",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.ResourceService/ListResources",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.ResourceService/PreviewChange",
        Access::AnyOf(&[ORDERS_READ, SELF_ORDERS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.ResourceService/ChangeResource",
        Access::AnyOf(&[ORDERS_MANAGE, SELF_ORDERS_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.SandboxService/GetClock",
        Access::Authenticated,
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.SandboxService/AdvanceClock",
        Access::AnyOf(&[PLATFORM_SANDBOX_MANAGE]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.BillService/GetCustomerBill",
        Access::AnyOf(&[BILLS_READ, SELF_BILLS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.BillService/GetPartnerBill",
        Access::AnyOf(&[BILLS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.BillService/ListFeeRecords",
        Access::AnyOf(&[BILLS_READ, SELF_BILLS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.BillService/ListUsageDetails",
        Access::AnyOf(&[BILLS_READ, SELF_BILLS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.BillService/ExportBill",
        Access::AnyOf(&[BILLS_READ, SELF_BILLS_READ]),
        Effect::Read,
    ),
    rule(
        "partner.billing.v1.BillService/AdjustBill",
        Access::AnyOf(&[PLATFORM_BILLS_ADJUST]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.UsageService/ReportUsage",
        Access::AnyOf(&[PLATFORM_USAGE_REPORT]),
        Effect::Write,
    ),
    rule(
        "partner.billing.v1.LedgerService/CheckLedger",
        Access::AnyOf(&[PLATFORM_FUNDS_READ]),
        Effect::Read,
    ),
];

pub const ACCESS: DomainAccess = DomainAccess {
    events: &[],
    domain: DOMAIN,
    permissions: PERMISSIONS,
    rules: RULES,
};
