//! One keyset page of a listing, newest first: every billing listing
//! pages by its time-ordered id the same way.

use partner_kernel::page::{Page, PageScope};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::error::BillingError;
use crate::service::Billing;

impl Billing {
    /// One page of `query` ordered by its `id` column, newest first,
    /// continuing after the key `token` carries (bound to `scope`).
    pub(crate) async fn page_by_id<E>(
        &self,
        mut query: Select<E>,
        id: E::Column,
        scope: &PageScope,
        size: u64,
        token: &str,
        key: fn(&E::Model) -> String,
    ) -> Result<Page<E::Model>, BillingError>
    where
        E: EntityTrait,
    {
        let now = self.clock().now();
        if let Some(after) = self.pages().decode(scope, token, now)? {
            query = query.filter(id.lt(after));
        }
        let rows = query
            .order_by_desc(id)
            .limit(size + 1)
            .all(self.db().conn())
            .await?;
        Ok(self.pages().cut(rows, size, scope, now, key))
    }
}
