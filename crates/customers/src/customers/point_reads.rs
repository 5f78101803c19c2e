//! One customer by id, the read behind `GetCustomer` (and a customer's
//! read of its own account, which budgets and verification share): on a
//! SQLite file a direct read on the calling task ([`Db::read_one`]); on
//! PostgreSQL the reads that arrive together share one query
//! ([`Coalescer`]), because there a statement costs the database and the
//! driver far more than a row.

use std::collections::HashMap;
use std::sync::Arc;

use partner_kernel::coalesce::{BatchFuture, Coalescer};
use partner_kernel::db::Db;
use partner_kernel::ids::{CustomerId, PartnerId};
use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, DbErr, EntityTrait, QueryFilter};

use super::model::Customer;
use super::store;
use crate::entity::customer;
use crate::error::CustomersError;

/// Batch queries that may run at once. Fewer means larger batches under
/// load (2 gave more calls per second than 4 on two cores, see
/// docs/benchmarks.md); more than one, so one slow batch does not stall
/// every read.
const MAX_IN_FLIGHT: usize = 2;
/// Ids in one batch query.
const MAX_BATCH: usize = 100;

/// Reads one customer by id.
#[derive(Debug, Clone)]
pub struct CustomerReads {
    db: Db,
    /// PostgreSQL only.
    batched: Option<Coalescer<CustomerId, customer::Model, DbErr>>,
}

impl CustomerReads {
    pub fn new(db: Db) -> Self {
        let batched = (db.conn().get_database_backend() == DbBackend::Postgres).then(|| {
            let source = db.clone();
            Coalescer::new(
                Arc::new(move |ids| rows_among(source.clone(), ids)),
                MAX_IN_FLIGHT,
                MAX_BATCH,
            )
        });
        Self { db, batched }
    }

    /// Customer `id` if it is `partner`'s.
    pub async fn of_partner(
        &self,
        partner: PartnerId,
        id: CustomerId,
    ) -> Result<Option<Customer>, CustomersError> {
        let Some(batched) = &self.batched else {
            return store::read_customer_of(&self.db, partner, id).await;
        };
        let partner = partner.to_string();
        let row = batched.load(id).await?;
        customer(row.filter(|row| row.partner_id.as_deref() == Some(partner.as_str())))
    }

    /// Customer `id`, whoever's it is (a customer's read of its own account).
    pub async fn platform(&self, id: CustomerId) -> Result<Option<Customer>, CustomersError> {
        let Some(batched) = &self.batched else {
            return store::read_platform_customer(&self.db, id).await;
        };
        customer(batched.load(id).await?)
    }
}

fn customer(row: Option<customer::Model>) -> Result<Option<Customer>, CustomersError> {
    Ok(row.map(Customer::from_row).transpose()?)
}

/// The customers among `ids`, in one statement whatever their number: the
/// ids travel as one text parameter, so the driver prepares the statement
/// once per connection instead of once per batch size. A [`CustomerId`] is
/// `cus_` and hex, so it never holds the comma that separates them.
fn rows_among(db: Db, ids: Vec<CustomerId>) -> BatchFuture<CustomerId, customer::Model, DbErr> {
    Box::pin(async move {
        let mut asked: HashMap<String, CustomerId> =
            ids.into_iter().map(|id| (id.to_string(), id)).collect();
        let joined = asked
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let rows = customer::Entity::find()
            .filter(Expr::cust_with_values(
                r#""customers"."id" = ANY(string_to_array($1, ','))"#,
                [joined],
            ))
            .all(db.conn())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| asked.remove(&row.id).map(|id| (id, row)))
            .collect())
    })
}
