//! The audit trail's query. Records belong to the kernel's table; this is
//! the one place that reads them.

use partner_kernel::entity::audit_record;
use partner_kernel::ids::PartnerId;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::AuditFilter;

/// A page of records matching `filter` before `before`, newest first. With
/// `own_and_acted_for`, a partner's unfiltered view: its own records and
/// those its users made acting for its resellers.
pub(super) async fn list(
    conn: &impl ConnectionTrait,
    own_and_acted_for: Option<PartnerId>,
    filter: &AuditFilter,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<audit_record::Model>, DbErr> {
    let mut q = audit_record::Entity::find();
    if let Some(own) = own_and_acted_for {
        let own = own.to_string();
        q = q.filter(
            Condition::any()
                .add(audit_record::Column::PartnerId.eq(own.clone()))
                .add(
                    Condition::all()
                        .add(audit_record::Column::ActorPartnerId.eq(own))
                        .add(audit_record::Column::ActingForPartnerId.is_not_null()),
                ),
        );
    }
    if let Some(partner) = filter.partner_id {
        q = q.filter(audit_record::Column::PartnerId.eq(partner.to_string()));
    }
    if let Some(actor) = filter.actor_user_id {
        q = q.filter(audit_record::Column::ActorUserId.eq(actor.to_string()));
    }
    if let Some(method) = &filter.method {
        q = q.filter(audit_record::Column::Method.eq(method.as_str()));
    }
    if let Some(resource) = &filter.resource_id {
        q = q.filter(audit_record::Column::ResourceId.eq(resource.as_str()));
    }
    if let Some(start) = filter.start_time {
        q = q.filter(audit_record::Column::CreatedAt.gte(start));
    }
    if let Some(end) = filter.end_time {
        q = q.filter(audit_record::Column::CreatedAt.lt(end));
    }
    if let Some(before) = before {
        q = q.filter(audit_record::Column::Id.lt(before));
    }
    q.order_by_desc(audit_record::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}
