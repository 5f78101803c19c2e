//! Sales-platform ids (`xaccount_type`): the vendor issues one per partner's
//! sales platform, and customers are mapped from `(xaccount_type,
//! xaccount_id)`. Every partner gets one at registration; the operator issues
//! more. The customers domain asks [`Accounts::owns_sales_platform`] before
//! it maps a customer.

pub mod store;

use partner_api::accounts::v1 as pb;
use partner_kernel::ids::PartnerId;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::ConnectionTrait;

use crate::access as perm;
use crate::error::AccountsError;
use crate::partners::store::load_partner;
use crate::service::Accounts;

/// How many sales-platform ids one partner may hold.
pub const MAX_PER_PARTNER: u64 = 20;

/// A new id: `xat_` and 16 random hex digits.
pub fn generate() -> Result<String, AccountsError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| {
        AccountsError::Kernel(partner_kernel::error::KernelError::Corrupt(format!(
            "no randomness: {e}"
        )))
    })?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("xat_{hex}"))
}

/// An id the operator names: 3–32 of `[A-Za-z0-9_-]`.
pub fn parse(raw: &str) -> Result<String, &'static str> {
    let ok = (3..=32).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("must be 3-32 of A-Z, a-z, 0-9, `_` and `-`")
    }
}

/// Issues `id` to `partner` inside the caller's transaction.
pub(crate) async fn issue_in(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AccountsError> {
    // The partner's row is locked first, so concurrent issues to one
    // partner count one after the other (PostgreSQL).
    crate::partners::store::partner_for_update(conn, partner)
        .await?
        .ok_or(AccountsError::PartnerNotFound)?;
    if store::issued(conn, id).await? {
        return Err(AccountsError::SalesPlatformIdTaken);
    }
    if store::count_of(conn, partner).await? >= MAX_PER_PARTNER {
        return Err(AccountsError::SalesPlatformLimitReached {
            limit: MAX_PER_PARTNER,
        });
    }
    match store::insert(conn, partner, id, now).await {
        // Another partner was issued the same id meanwhile.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Err(AccountsError::SalesPlatformIdTaken)
        }
        other => Ok(other?),
    }
}

impl Accounts {
    /// Operator: issues one more sales-platform id to a partner.
    pub async fn issue_sales_platform_id(
        &self,
        m: Mutation,
        partner: PartnerId,
        id: Option<String>,
    ) -> Result<pb::IssueSalesPlatformIdResponse, AccountsError> {
        m.principal.require(perm::PLATFORM_SALES_PLATFORMS_ISSUE)?;
        let id = match id {
            Some(id) => id,
            None => generate()?,
        };
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = load_partner(tx, partner).await?;
                issue_in(tx, partner, &id, now).await?;
                let after = load_partner(tx, partner).await?;
                let change = Change::of(Some(partner), partner)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("partner.sales_platform_issued");
                let response = pb::IssueSalesPlatformIdResponse {
                    sales_platform_id: id,
                    partner: Some(after.to_proto()),
                };
                Ok::<_, AccountsError>(Outcome::new(response, change))
            })
        })
        .await?;
        self.invalidate();
        Ok(response)
    }

    /// Whether `id` is one of `partner`'s sales-platform ids, read through
    /// `conn` (a write asks inside its transaction).
    pub async fn owns_sales_platform(
        conn: &impl ConnectionTrait,
        partner: PartnerId,
        id: &str,
    ) -> Result<bool, AccountsError> {
        Ok(store::owned_by(conn, partner, id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_named_ids() {
        let id = generate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse(&id), Ok(id.clone()));
        assert_eq!(id.len(), 20);
    }

    #[test]
    fn named_ids_follow_the_rules() {
        assert!(parse("ZXT").is_ok());
        assert!(parse("csdndev_IDP").is_ok());
        assert!(parse("ab").is_err());
        assert!(parse("a b c").is_err());
        assert!(parse(&"x".repeat(33)).is_err());
    }
}
