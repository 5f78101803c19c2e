//! Typed, prefixed, time-ordered identifiers (`prt_…`, `usr_…`).
//!
//! The body is a UUIDv7 in lower-case hex, so ids sort by creation time both as
//! strings and as database keys, and keyset paging by id follows creation order.

use std::fmt;

use uuid::Uuid;

/// Why a string is not an id of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The prefix is missing or belongs to another type.
    #[error("expected an id starting with `{expected}_`")]
    WrongPrefix { expected: &'static str },
    /// The body after the prefix is not a UUIDv7 in 32 lower-case hex digits.
    #[error("malformed id body")]
    Malformed,
}

/// Generates a new UUIDv7 body; monotonic within the process.
fn new_body() -> Uuid {
    Uuid::now_v7()
}

fn parse_body(prefix: &'static str, s: &str) -> Result<Uuid, IdError> {
    let body = s
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .ok_or(IdError::WrongPrefix { expected: prefix })?;
    let well_formed = body.len() == 32
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(IdError::Malformed);
    }
    let uuid = Uuid::try_parse(body).map_err(|_| IdError::Malformed)?;
    if uuid.get_version_num() != 7 {
        return Err(IdError::Malformed);
    }
    Ok(uuid)
}

/// An id read back from the database: one that does not parse is corruption.
pub fn parse_stored<T, E: fmt::Display>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, crate::error::KernelError> {
    parse(raw).map_err(|e| crate::error::KernelError::Corrupt(format!("stored id {raw:?}: {e}")))
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// The type prefix, without the underscore.
            pub const PREFIX: &'static str = $prefix;

            /// A new id, later than every id this process made before.
            pub fn generate() -> Self {
                Self(new_body())
            }

            /// Parses `prefix_<32 hex>`.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                parse_body($prefix, s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.0.simple())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

define_id!(
    /// A partner (the tenant).
    PartnerId,
    "prt"
);
define_id!(
    /// A user: platform operator, partner master or partner sub-user.
    UserId,
    "usr"
);
define_id!(
    /// A login session (one refresh-token family).
    SessionId,
    "ses"
);
define_id!(
    /// A token-signing key.
    SigningKeyId,
    "key"
);
define_id!(
    /// An audit record.
    AuditId,
    "aud"
);
define_id!(
    /// An outbox event.
    EventId,
    "evt"
);
define_id!(
    /// A partner's custom role.
    RoleId,
    "rol"
);
define_id!(
    /// An invitation to join a partner program.
    InvitationId,
    "inv"
);
define_id!(
    /// An access key of a partner's system (the id half of an AK/SK pair).
    AccessKeyId,
    "ak"
);

define_id!(
    /// A customer's cloud account. In the kernel because a customer is also a
    /// principal (it signs in), not only a record of the customers domain.
    CustomerId,
    "cus"
);

define_id!(
    /// A partner's SAML identity provider.
    IdentityProviderId,
    "idp"
);

define_id!(
    /// Where a partner's events are pushed (a webhook endpoint).
    WebhookEndpointId,
    "whk"
);

define_id!(
    /// One event's trip to one webhook endpoint.
    WebhookDeliveryId,
    "whd"
);

define_id!(
    /// A message sent to a webhook that announces no stored event (a test event).
    MessageId,
    "msg"
);

define_id!(
    /// A discount: a commercial contract, a promotion, or a partner's rate for a customer.
    DiscountId,
    "dsc"
);

define_id!(
    /// An incentive policy: how much discount a partner may give.
    IncentivePolicyId,
    "icp"
);

define_id!(
    /// A quote: a rating frozen for a customer until it expires.
    QuoteId,
    "quo"
);

define_id!(
    /// An exclusive offer link: a partner's shareable link to a product.
    OfferLinkId,
    "ofl"
);

define_id!(
    /// A software partner's solution (云软件方案).
    SolutionId,
    "sol"
);

define_id!(
    /// An account of the ledger: one owner's money of one kind in one currency.
    LedgerAccountId,
    "lac"
);

define_id!(
    /// A journal transaction: one business operation's balanced entries.
    LedgerTransactionId,
    "ltx"
);

define_id!(
    /// One entry of a journal transaction: one account's movement.
    LedgerEntryId,
    "lte"
);

define_id!(
    /// An amount reserved on a ledger account until captured, released or expired.
    LedgerHoldId,
    "lhd"
);

define_id!(
    /// A payment-on-behalf agreement: a payer pays a payee's orders.
    PaymentAgreementId,
    "pag"
);

define_id!(
    /// A partner's coupon quota: the value it may issue as coupons.
    CouponQuotaId,
    "cpq"
);

define_id!(
    /// One movement of a coupon quota: granted, given, taken back, ended.
    CouponQuotaRecordId,
    "cqr"
);

define_id!(
    /// A coupon issued to a customer from a quota.
    CouponId,
    "cpn"
);

define_id!(
    /// One movement of an issued coupon: issued, reclaimed, expired.
    CouponRecordId,
    "cpr"
);

define_id!(
    /// An order: a customer buying, renewing, changing or giving up resources.
    OrderId,
    "ord"
);

define_id!(
    /// A cloud resource an order opened for a customer.
    ResourceId,
    "res"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_prefix() {
        let id = PartnerId::generate();
        let s = id.to_string();
        assert!(s.starts_with("prt_"));
        assert_eq!(s.len(), 4 + 32);
        assert_eq!(PartnerId::parse(&s), Ok(id));
    }

    #[test]
    fn refuses_foreign_prefix_and_garbage() {
        let user = UserId::generate().to_string();
        assert_eq!(
            PartnerId::parse(&user),
            Err(IdError::WrongPrefix { expected: "prt" })
        );
        assert_eq!(
            PartnerId::parse(""),
            Err(IdError::WrongPrefix { expected: "prt" })
        );
        assert_eq!(PartnerId::parse("prt_"), Err(IdError::Malformed));
        assert_eq!(PartnerId::parse("prt_zz"), Err(IdError::Malformed));
        let upper = PartnerId::generate()
            .to_string()
            .to_uppercase()
            .replacen("PRT", "prt", 1);
        assert_eq!(PartnerId::parse(&upper), Err(IdError::Malformed));
        // A valid UUID of another version is not one of ours.
        let v4 = format!("prt_{}", Uuid::new_v4().simple());
        assert_eq!(PartnerId::parse(&v4), Err(IdError::Malformed));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let ids: Vec<String> = (0..1000).map(|_| UserId::generate().to_string()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn ids_order_as_their_text_does() {
        // Random bodies (not only increasing ones): callers compare ids
        // instead of formatting them to compare.
        let ids: Vec<DiscountId> = (0..1000).map(|_| DiscountId(Uuid::new_v4())).collect();
        for pair in ids.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()), "{a} {b}");
        }
    }
}
