//! Changing a resource's settings (auto-renew, expiry policy): one write
//! that a partner makes only on what its current customers bought under
//! it, and a customer on its own; audited with the settings after.

use partner_api::billing::v1 as pb;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId, parse_stored};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::error::BillingError;
use crate::orders::entity::resource;
use crate::orders::model::{ChargingMode, ResourceStatus};
use crate::orders::read::{Scope, resource_scope};
use crate::service::Billing;

impl Billing {
    /// Sets `columns` on the resource `id` the caller reaches, in use and
    /// charged by the period; `RESOURCE_NOT_FOUND` otherwise.
    pub(crate) async fn update_resource(
        &self,
        mut m: Mutation,
        id: ResourceId,
        reseller: Option<PartnerId>,
        columns: Vec<(resource::Column, SimpleExpr)>,
    ) -> Result<pb::Resource, BillingError> {
        if let Some(answer) = write::replayed::<pb::Resource>(self.db(), &m).await? {
            return Ok(answer);
        }
        let scope = self.order_scope(&mut m, reseller, true).await?;
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let row = resource::Entity::find_by_id(id.to_string())
                    .filter(resource_scope(scope))
                    .one(tx)
                    .await?
                    .ok_or(BillingError::ResourceNotFound)?;
                // A child renews and expires with its main resource.
                if let Some(main) = row.main_resource_id.clone() {
                    return Err(BillingError::ChildResource {
                        resource: row.id,
                        main,
                    });
                }
                // A partner acts only on what its current customers bought
                // under it.
                if let Scope::Partner(p) = scope {
                    let customer = parse_stored(&row.customer_id, CustomerId::parse)?;
                    partner_customers::customers::store::customer_of(tx, p, customer)
                        .await?
                        .ok_or(BillingError::ResourceNotFound)?;
                }
                let mut update = resource::Entity::update_many()
                    .col_expr(resource::Column::UpdatedAt, Expr::value(call.now))
                    .filter(resource::Column::Id.eq(id.to_string()))
                    .filter(resource::Column::Status.eq(ResourceStatus::InUse.as_str()))
                    .filter(resource::Column::ChargingMode.eq(ChargingMode::Period.as_str()));
                for (column, value) in columns {
                    update = update.col_expr(column, value);
                }
                if update.exec(tx).await?.rows_affected != 1 {
                    return Err(BillingError::ResourceNotFound);
                }
                let row = resource::Entity::find_by_id(id.to_string())
                    .one(tx)
                    .await?
                    .ok_or(BillingError::ResourceNotFound)?;
                let partner = match scope {
                    Scope::Partner(p) => Some(p),
                    Scope::Customer(_) => row
                        .partner_id
                        .as_deref()
                        .map(|p| parse_stored(p, PartnerId::parse))
                        .transpose()?,
                };
                let summary = serde_json::json!({
                    "auto_renew_unit": row.auto_renew_unit,
                    "auto_renew_count": row.auto_renew_count,
                    "auto_renew_times": row.auto_renew_times,
                    "expiry_policy": row.expiry_policy,
                });
                Ok(Outcome::new(
                    super::to_proto(&row)?,
                    Change::of(partner, &row.id).after(summary),
                ))
            })
        })
        .await
    }
}
