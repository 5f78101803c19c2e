//! Queries on program enrolments and invitations. Tenant data starts from a
//! scoped constructor (`enrolments_of`, `invitations_sent_by`); the lookup by
//! secret token says so in its name.

use chrono::{DateTime, Utc};
use partner_kernel::ids::{InvitationId, PartnerId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::{Invitation, InvitationState, Program};
use crate::entity::{invitation, program_enrolment};
use crate::error::AccountsError;

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

/// What a new invitation is made of.
pub(crate) struct InvitationRow {
    pub id: InvitationId,
    /// `None` for the operator's.
    pub inviter_partner_id: Option<PartnerId>,
    pub inviter_user_id: UserId,
    pub program: Program,
    pub email: String,
    /// The existing partner invited; `None` for a new partner's sign-up.
    pub partner_id: Option<PartnerId>,
    pub token_hash: String,
    pub expire_at: DateTime<Utc>,
}

/// Inserts a PENDING invitation.
pub(crate) async fn insert_invitation(
    conn: &impl ConnectionTrait,
    row: InvitationRow,
    now: DateTime<Utc>,
) -> Result<Invitation, AccountsError> {
    Ok(invitation::ActiveModel {
        id: Set(row.id.to_string()),
        inviter_partner_id: Set(row.inviter_partner_id.map(|p| p.to_string())),
        inviter_user_id: Set(row.inviter_user_id.to_string()),
        program: Set(row.program.as_str().to_owned()),
        email: Set(row.email),
        partner_id: Set(row.partner_id.map(|p| p.to_string())),
        token_hash: Set(row.token_hash),
        state: Set(InvitationState::Pending.as_str().to_owned()),
        expire_at: Set(row.expire_at),
        accepted_partner_id: Set(None),
        accepted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?
    .try_into()?)
}

/// Enrols `partner` in `program`; a unique-index conflict (enrolled
/// meanwhile) is the caller's to name.
pub(crate) async fn insert_enrolment(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    program: Program,
    invitation: InvitationId,
    business_info: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<program_enrolment::Model, DbErr> {
    program_enrolment::ActiveModel {
        partner_id: Set(partner.to_string()),
        program: Set(program.as_str().to_owned()),
        invitation_id: Set(invitation.to_string()),
        business_info: Set(business_info),
        agreement_accepted_at: Set(now),
        created_at: Set(now),
    }
    .insert(conn)
    .await
}

/// Moves a pending invitation to `to`; false when it was no longer pending.
/// The state condition in the UPDATE makes two concurrent acceptances (or an
/// acceptance racing a revocation) resolve to exactly one winner; the
/// inviter condition keeps the update inside the invitation's tenant.
pub async fn settle_invitation(
    conn: &impl ConnectionTrait,
    invitation: &Invitation,
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
    let inviter = match invitation.inviter_partner_id {
        Some(p) => invitation::Column::InviterPartnerId.eq(p.to_string()),
        None => invitation::Column::InviterPartnerId.is_null(),
    };
    let result = update
        .filter(inviter)
        .filter(invitation::Column::Id.eq(invitation.id.to_string()))
        .filter(invitation::Column::State.eq(InvitationState::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
