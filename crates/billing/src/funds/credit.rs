//! Partners' credit lines: how far the operator lets a partner's credit
//! account go below zero.

use partner_api::billing::v1 as pb;
use partner_kernel::ids::PartnerId;
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::access::PLATFORM_FUNDS_MANAGE;
use crate::entity::ledger_account as account;
use crate::error::BillingError;
use crate::ledger::{Account, AccountKey, Kind, Owner, locked_accounts};
use crate::service::Billing;

impl Billing {
    /// Sets the partner's credit limit in the limit's currency; a limit
    /// below the credit already used (or reserved) is refused.
    pub async fn set_partner_credit_limit(
        &self,
        m: Mutation,
        partner: PartnerId,
        limit: Money,
        reason: String,
    ) -> Result<pb::SetPartnerCreditLimitResponse, BillingError> {
        m.principal.require(PLATFORM_FUNDS_MANAGE)?;
        self.accounts().partner_record(partner).await?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let key = AccountKey::new(
                    Owner::Partner(partner),
                    Kind::PartnerCredit,
                    limit.currency(),
                );
                let rows = locked_accounts(tx, std::slice::from_ref(&key), now).await?;
                let row = rows.first().ok_or(BillingError::Unbalanced)?;
                let before = Account::from_row(row)?;
                let used = row.pending.saturating_sub(row.balance);
                if used > limit.minor() {
                    return Err(BillingError::CreditInUse {
                        used: Money::from_minor(limit.currency(), used),
                    });
                }
                account::Entity::update_many()
                    .col_expr(account::Column::CreditLimit, Expr::value(limit.minor()))
                    .col_expr(account::Column::UpdatedAt, Expr::value(now))
                    .filter(account::Column::Id.eq(row.id.as_str()))
                    .exec(tx)
                    .await?;
                let after = Account {
                    credit_limit: limit,
                    updated_at: now,
                    ..before.clone()
                };
                let change = Change::of(Some(partner), &after.id)
                    .before(json!({ "credit_limit": before.credit_limit.to_string() }))
                    .after(json!({ "credit_limit": limit.to_string() }))
                    .reason(reason);
                let response = pb::SetPartnerCreditLimitResponse {
                    balance: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }
}
