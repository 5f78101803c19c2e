//! Queries on program enrolments and invitations. Tenant data starts from a
//! scoped constructor (`enrolments_of`, `invitations_sent_by`); the lookup by
//! secret token says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{InvitationId, PartnerId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::{InvitationState, Program};
use crate::entity::{invitation, program_enrolment};

/// The enrolments of one partner.
pub fn enrolments_of(partner: PartnerId) -> Select<program_enrolment::Entity> {
    program_enrolment::Entity::find()
        .filter(program_enrolment::Column::PartnerId.eq(partner.to_string()))
}

/// The enrolments of several partners (a listing page), oldest first.
pub async fn enrolments_of_many(
    conn: &impl ConnectionTrait,
    partners: Vec<String>,
) -> Result<Vec<program_enrolment::Model>, DbErr> {
    program_enrolment::Entity::find()
        .filter(program_enrolment::Column::PartnerId.is_in(partners))
        .order_by_asc(program_enrolment::Column::CreatedAt)
        .order_by_asc(program_enrolment::Column::Program)
        .all(conn)
        .await
}

/// Whether `partner` is in `program`.
pub async fn is_enrolled(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    program: Program,
) -> Result<bool, DbErr> {
    Ok(enrolments_of(partner)
        .filter(program_enrolment::Column::Program.eq(program.as_str()))
        .one(conn)
        .await?
        .is_some())
}

/// The invitation a token names, whoever it is addressed to: the caller
/// proves the right to it by holding the token, and the domain then checks
/// the addressee.
pub async fn invitation_by_token_hash(
    conn: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await
}

/// Invitations sent by one distributor; `None` means every invitation (the operator's view).
pub fn invitations_sent_by(inviter: Option<PartnerId>) -> Select<invitation::Entity> {
    let q = invitation::Entity::find();
    match inviter {
        Some(p) => q.filter(invitation::Column::InviterPartnerId.eq(p.to_string())),
        None => q,
    }
}

/// One invitation in the caller's view.
pub async fn invitation(
    conn: &impl ConnectionTrait,
    inviter: Option<PartnerId>,
    id: InvitationId,
) -> Result<Option<invitation::Model>, DbErr> {
    invitations_sent_by(inviter)
        .filter(invitation::Column::Id.eq(id.to_string()))
        .one(conn)
        .await
}

/// A page of invitations after `after`, oldest first.
pub async fn list_invitations(
    conn: &impl ConnectionTrait,
    inviter: Option<PartnerId>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<invitation::Model>, DbErr> {
    let mut q = invitations_sent_by(inviter);
    if let Some(after) = after {
        q = q.filter(invitation::Column::Id.gt(after));
    }
    q.order_by_asc(invitation::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Moves a pending invitation to `to`; false when it was no longer pending.
/// The state condition in the UPDATE makes two concurrent acceptances (or an
/// acceptance racing a revocation) resolve to exactly one winner.
pub async fn settle_invitation(
    conn: &impl ConnectionTrait,
    id: InvitationId,
    to: InvitationState,
    accepted_by: Option<PartnerId>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = invitation::Entity::update_many()
        .col_expr(invitation::Column::State, Expr::value(to.as_str()))
        .col_expr(invitation::Column::UpdatedAt, Expr::value(now));
    if let Some(partner) = accepted_by {
        update = update
            .col_expr(
                invitation::Column::AcceptedPartnerId,
                Expr::value(partner.to_string()),
            )
            .col_expr(invitation::Column::AcceptedAt, Expr::value(now));
    }
    let result = update
        .filter(invitation::Column::Id.eq(id.to_string()))
        .filter(invitation::Column::State.eq(InvitationState::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
