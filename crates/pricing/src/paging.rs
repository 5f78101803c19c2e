//! The one keyset page of the pricing domain's lists: newest (highest
//! time-ordered id) first, continuing after the last id of the token.

use partner_kernel::page::{Page, PageScope};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::error::PricingError;
use crate::service::Pricing;

impl Pricing {
    /// One page of `query`'s rows ordered by `id` descending; the token is
    /// bound to `scope` (the caller and every filter of `query`).
    pub(crate) async fn newest_first<E: EntityTrait>(
        &self,
        mut query: Select<E>,
        id: E::Column,
        key: impl Fn(&E::Model) -> String,
        scope: &PageScope,
        token: &str,
        size: u64,
    ) -> Result<Page<E::Model>, PricingError> {
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
