//! Balances and account movements.

use std::collections::HashMap;

use partner_api::billing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::money::{Currency, Money};
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Named;
use crate::entity::{ledger_account as account, ledger_entry as entry, ledger_transaction as txn};
use crate::error::BillingError;
use crate::ledger::{Account, Kind};
use crate::service::Billing;

const LIST_ENTRIES: &str = "partner.billing.v1.FundsService/ListAccountEntries";

impl Billing {
    /// The accounts of the owner `p` names, in kind order, then currency.
    pub async fn balances(
        &self,
        p: &Principal,
        named: Named,
    ) -> Result<Vec<pb::AccountBalance>, BillingError> {
        let owner = self.readable_owner(p, named).await?;
        let rows = account::Entity::find()
            .filter(account::Column::OwnerId.eq(owner.to_string()))
            .all(self.db().conn())
            .await?;
        let mut accounts = rows
            .iter()
            .map(Account::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        accounts.sort_by_key(|a| (a.kind.to_proto() as i32, a.balance.currency()));
        Ok(accounts.iter().map(Account::to_proto).collect())
    }

    /// The movements of the named owner's accounts (of one kind, when
    /// given), newest first.
    pub async fn account_entries(
        &self,
        p: &Principal,
        named: Named,
        kind: Option<Kind>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::AccountEntry>, BillingError> {
        let owner = self.readable_owner(p, named).await?;
        let conn = self.db().conn();
        let mut accounts =
            account::Entity::find().filter(account::Column::OwnerId.eq(owner.to_string()));
        if let Some(kind) = kind {
            accounts = accounts.filter(account::Column::Kind.eq(kind.as_str()));
        }
        let accounts: HashMap<String, account::Model> = accounts
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let scope = PageScope::new(LIST_ENTRIES, &owner.to_string())
            .filter("kind", kind.map_or("", |k| k.as_str()));
        let now = self.clock().now();
        let mut query =
            entry::Entity::find().filter(entry::Column::AccountId.is_in(accounts.keys().cloned()));
        if let Some(after) = self.pages().decode(&scope, token, now)? {
            query = query.filter(entry::Column::Id.lt(after));
        }
        let rows = if accounts.is_empty() {
            Vec::new()
        } else {
            query
                .order_by_desc(entry::Column::Id)
                .limit(size + 1)
                .all(conn)
                .await?
        };
        let page = self
            .pages()
            .cut(rows, size, &scope, now, |e: &entry::Model| e.id.clone());
        let transactions: HashMap<String, txn::Model> = txn::Entity::find()
            .filter(txn::Column::Id.is_in(page.items.iter().map(|e| e.transaction_id.clone())))
            .all(conn)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        Ok(page.try_map(|e| {
            let account = accounts
                .get(&e.account_id)
                .ok_or_else(|| KernelError::Corrupt(format!("entry {} account", e.id)))?;
            let t = transactions
                .get(&e.transaction_id)
                .ok_or_else(|| KernelError::Corrupt(format!("entry {} transaction", e.id)))?;
            let currency = Currency::parse(&account.currency)
                .map_err(|err| KernelError::Corrupt(format!("account {}: {err}", account.id)))?;
            Ok(pb::AccountEntry {
                transaction_id: e.transaction_id.clone(),
                operation: t.operation.clone(),
                kind: Kind::parse(&account.kind)?.to_proto() as i32,
                amount: Some(Money::from_minor(currency, e.amount).to_proto()),
                balance_after: Some(Money::from_minor(currency, e.balance_after).to_proto()),
                reason: t.reason.clone(),
                effective_time: Some(to_proto_timestamp(e.effective_at)),
            })
        })?)
    }
}
