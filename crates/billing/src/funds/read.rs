//! Balances and account movements.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_customers::customers::model::AssociationType;
use partner_customers::customers::store as customer_store;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Named;
use crate::access::FUNDS_READ;
use crate::entity::{
    ledger_account as account, ledger_entry as entry, ledger_hold as hold,
    ledger_transaction as txn,
};
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
        let owner = self.readable_owner(p, named).await?.owner;
        let rows = account::Entity::find()
            .filter(account::Column::OwnerId.eq(owner.to_string()))
            .all(self.db().conn())
            .await?;
        let accounts = rows
            .iter()
            .map(Account::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(in_kind_order(accounts))
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
        let readable = self.readable_owner(p, named).await?;
        let owner = readable.owner;
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
            .filter("kind", kind.map_or("", |k| k.as_str()))
            .filter(
                "through",
                readable.through.map(|p| p.to_string()).unwrap_or_default(),
            );
        let now = self.clock().now();
        let mut query =
            entry::Entity::find().filter(entry::Column::AccountId.is_in(accounts.keys().cloned()));
        if let Some(partner) = readable.through {
            query = query.filter(
                entry::Column::TransactionId.in_subquery(
                    Query::select()
                        .column(txn::Column::Id)
                        .from(txn::Entity)
                        .and_where(txn::Column::PartnerId.eq(partner.to_string()))
                        .to_owned(),
                ),
            );
        }
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

impl Billing {
    /// Up to 100 of the partner's customers' balances, a result per id in
    /// the order asked; consultant-sale customers are skipped and marked.
    pub async fn batch_customer_balances(
        &self,
        p: &Principal,
        ids: Vec<CustomerId>,
        reseller: Option<PartnerId>,
    ) -> Result<Vec<pb::CustomerBalances>, BillingError> {
        let tenant = self
            .accounts()
            .resolve_tenant(p, FUNDS_READ, reseller)
            .await?;
        let conn = self.db().conn();
        let found: HashMap<CustomerId, AssociationType> =
            customer_store::customers_among(conn, tenant.partner_id, &ids)
                .await?
                .into_iter()
                .map(|c| (c.id, c.association_type))
                .collect();
        let funded: Vec<String> = found
            .iter()
            .filter(|(_, t)| **t == AssociationType::Reseller)
            .map(|(id, _)| id.to_string())
            .collect();
        let mut by_owner: HashMap<String, Vec<Account>> = HashMap::new();
        for row in account::Entity::find()
            .filter(account::Column::OwnerId.is_in(funded))
            .all(conn)
            .await?
        {
            let account = Account::from_row(&row)?;
            by_owner.entry(row.owner_id).or_default().push(account);
        }
        Ok(ids
            .into_iter()
            .map(|id| {
                let key = id.to_string();
                let mut result = pb::CustomerBalances {
                    customer_id: key.clone(),
                    ..Default::default()
                };
                match found.get(&id) {
                    None => result.error_reason = "CUSTOMER_NOT_FOUND".into(),
                    Some(AssociationType::ConsultantSale) => result.consultant_sale = true,
                    Some(AssociationType::Reseller) => {
                        result.balances = in_kind_order(by_owner.remove(&key).unwrap_or_default());
                    }
                }
                result
            })
            .collect())
    }

    /// The named owner's balances as they were at `at`: each account's
    /// balance after its last entry then (zero before its first) and what
    /// its open holds reserved then. A partner sees its customer's only from
    /// when the customer became its own.
    pub async fn balances_at(
        &self,
        p: &Principal,
        named: Named,
        at: DateTime<Utc>,
    ) -> Result<Vec<pb::AccountBalance>, BillingError> {
        let readable = self.readable_owner(p, named).await?;
        if readable.since.is_some_and(|since| at < since) {
            return Ok(Vec::new());
        }
        let conn = self.db().conn();
        let rows = account::Entity::find()
            .filter(account::Column::OwnerId.eq(readable.owner.to_string()))
            .filter(account::Column::CreatedAt.lte(at))
            .all(conn)
            .await?;
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            let last = entry::Entity::find()
                .filter(entry::Column::AccountId.eq(row.id.as_str()))
                .filter(entry::Column::EffectiveAt.lte(at))
                .order_by_desc(entry::Column::VersionAfter)
                .one(conn)
                .await?;
            let held: Vec<i64> = hold::Entity::find()
                .select_only()
                .column(hold::Column::Amount)
                .filter(hold::Column::AccountId.eq(row.id.as_str()))
                .filter(hold::Column::CreatedAt.lte(at))
                .filter(
                    Condition::any()
                        .add(hold::Column::ResolvedAt.is_null())
                        .add(hold::Column::ResolvedAt.gt(at)),
                )
                .into_tuple()
                .all(conn)
                .await?;
            let mut account = Account::from_row(&row)?;
            let currency = account.balance.currency();
            account.balance =
                Money::from_minor(currency, last.as_ref().map_or(0, |e| e.balance_after));
            account.pending = Money::from_minor(currency, held.iter().sum());
            account.version = last.as_ref().map_or(0, |e| e.version_after);
            account.updated_at = last.map_or(row.created_at, |e| e.effective_at);
            accounts.push(account);
        }
        Ok(in_kind_order(accounts))
    }
}

/// Accounts on the wire in kind order, then currency.
fn in_kind_order(mut accounts: Vec<Account>) -> Vec<pb::AccountBalance> {
    accounts.sort_by_key(|a| (a.kind.to_proto() as i32, a.balance.currency()));
    accounts.iter().map(Account::to_proto).collect()
}
