//! Joining a program with an invitation: an existing partner accepts it, or a
//! new partner signs up with it. Either way one transaction checks the token,
//! the eligibility rules and the enrolment, spends the invitation (a
//! conditional UPDATE, so of two concurrent acceptances exactly one wins),
//! records the enrolment and, for RESELLER, links the reseller to its
//! distributor.

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, SessionId, UserId};
use partner_kernel::mutation::Call;
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::{Actor, Principal};
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, SqlErr};
use uuid::Uuid;

use super::invitations::{refuse_settled, token_hash};
use super::{BusinessInfo, Enrolment, Invitation, InvitationState, Program, store};
use crate::access as perm;
use crate::error::{AccountsError, Ineligibility};
use crate::partners::store::load_partner;
use crate::partners::{EnterpriseMembership, Partner, PartnerRows, create_partner_with_master};
use crate::resellers::{self};
use crate::service::Accounts;

/// What an existing partner sends to accept an invitation.
#[derive(Debug)]
pub struct Acceptance {
    pub token: String,
    pub business: BusinessInfo,
}

/// What a new partner sends to sign up with an invitation.
#[derive(Debug)]
pub struct SignUp {
    pub token: String,
    pub business: BusinessInfo,
    pub master_username: String,
    pub master_password: String,
    pub contact_email: String,
}

impl Accounts {
    /// Accepts an invitation addressed to the caller's partner.
    pub async fn accept_invitation(
        &self,
        m: Mutation,
        cmd: Acceptance,
    ) -> Result<pb::AcceptInvitationResponse, AccountsError> {
        let partner_id = m.principal.require_partner(perm::PROGRAMS_JOIN)?;
        let hash = token_hash(&cmd.token);
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let invitation = open_invitation(tx, &hash, Some(partner_id), now).await?;
                let partner = load_partner(tx, partner_id).await?;
                let (enrolment, change) =
                    join(tx, now, &invitation, &partner, &cmd.business).await?;
                let response = pb::AcceptInvitationResponse {
                    partner: Some(load_partner(tx, partner_id).await?.to_proto()),
                    enrolment: Some(enrolment.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        // The cached partner no longer lists all its programs.
        self.invalidate();
        response
    }

    /// Signs a new partner and its master user up with an invitation that
    /// names no partner. Public: the token is the credential. The idempotency
    /// key is bound to the invitation, so only the token's holder can replay.
    /// Every cheap refusal (an unknown, dead or spent token that is not a
    /// replay; a taken username) comes before the password is hashed.
    pub async fn sign_up_with_invitation(
        &self,
        call: Call,
        request_id: Uuid,
        cmd: SignUp,
    ) -> Result<pb::SignUpWithInvitationResponse, AccountsError> {
        let now = call.now();
        let hash = token_hash(&cmd.token);
        let found = open_invitation(self.db().conn(), &hash, None, now).await;
        let (invitation_id, spent) = match found {
            Ok(i) => (i.id, false),
            Err(AccountsError::InvitationAlreadyUsed) => {
                let spent = store::invitation_by_token_hash(self.db().conn(), &hash)
                    .await?
                    .map(Invitation::try_from)
                    .transpose()?
                    .ok_or(AccountsError::InvitationNotFound)?;
                (spent.id, true)
            }
            Err(e) => return Err(e),
        };
        let partner_id = PartnerId::generate();
        let master_id = UserId::generate();
        // The new master is the actor of its own sign-up.
        let actor = Actor::PartnerMaster(partner_id);
        let principal = Principal {
            user_id: Some(master_id),
            session_id: SessionId::generate(),
            actor,
            permissions: self.catalog().fixed_permissions(actor).unwrap_or_default(),
        };
        let m = call
            .mutation_as(principal, request_id)
            .keyed_by(invitation_id.to_string());
        // A spent token goes on only as a replay of the call that spent it.
        if let Some(replay) = write::replayed(self.db(), &m).await? {
            return Ok(replay);
        }
        if spent {
            return Err(AccountsError::InvitationAlreadyUsed);
        }
        if let Some(replay) = self.before_hashing(&m, &cmd.master_username).await? {
            return Ok(replay);
        }
        let password_hash = self.hash_password(cmd.master_password).await?;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let invitation = open_invitation(tx, &hash, None, now).await?;
                let rows = PartnerRows {
                    partner_id,
                    master_id,
                    display_name: cmd.business.company_name.clone(),
                    contact_email: cmd.contact_email.clone(),
                    master_username: cmd.master_username.clone(),
                    password_hash,
                };
                let (partner, master, registered) =
                    create_partner_with_master(tx, now, rows).await?;
                let (_, joined) = join(tx, now, &invitation, &partner, &cmd.business).await?;
                let response = pb::SignUpWithInvitationResponse {
                    partner: Some(load_partner(tx, partner_id).await?.to_proto()),
                    master_user: Some(master.to_proto()),
                };
                Ok(Outcome::new(response, registered).and(joined))
            })
        })
        .await;
        self.invalidate();
        response
    }
}

/// The live invitation `token_hash` names for `addressee` (`None`: a new
/// partner). An unknown token and one addressed to someone else are the same
/// INVITATION_NOT_FOUND; then a spent, revoked or expired one says which.
async fn open_invitation(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    addressee: Option<PartnerId>,
    now: DateTime<Utc>,
) -> Result<Invitation, AccountsError> {
    let invitation: Invitation = store::invitation_by_token_hash(conn, token_hash)
        .await?
        .ok_or(AccountsError::InvitationNotFound)?
        .try_into()?;
    if invitation.partner_id != addressee {
        return Err(AccountsError::InvitationNotFound);
    }
    refuse_settled(invitation.state)?;
    if invitation.expire_at <= now {
        return Err(AccountsError::InvitationExpired);
    }
    Ok(invitation)
}

/// Why `partner` may not join `invitation`'s program, if it may not. The
/// account rules apply to every program; the distributor rule to RESELLER.
async fn check_eligible(
    conn: &impl ConnectionTrait,
    invitation: &Invitation,
    partner: &Partner,
) -> Result<(), AccountsError> {
    let refuse = |why| Err(AccountsError::Ineligible(why));
    if partner.in_arrears {
        return refuse(Ineligibility::InArrears);
    }
    if partner.enterprise_membership != EnterpriseMembership::None {
        return refuse(Ineligibility::EnterpriseMember);
    }
    if partner.has_credit_account {
        return refuse(Ineligibility::HoldsCreditAccount);
    }
    if invitation.program == Program::Reseller
        && let Some(link) = resellers::store::link_of_reseller(conn, partner.id).await?
        && Some(link.distributor_id.as_str())
            != invitation
                .inviter_partner_id
                .map(|p| p.to_string())
                .as_deref()
    {
        return refuse(Ineligibility::LinkedToAnotherDistributor);
    }
    if partner
        .programs
        .iter()
        .any(|e| e.program == invitation.program)
    {
        return Err(AccountsError::ProgramAlreadyJoined {
            program: invitation.program.as_str(),
        });
    }
    Ok(())
}

/// Enrols `partner` in the invitation's program and spends the invitation;
/// returns the enrolment and the change to audit and announce.
async fn join(
    tx: &DatabaseTransaction,
    now: DateTime<Utc>,
    invitation: &Invitation,
    partner: &Partner,
    business: &BusinessInfo,
) -> Result<(Enrolment, Change), AccountsError> {
    // The invitation is spent first: of two concurrent acceptances the
    // loser hears that the token is used, not that the winner's enrolment
    // makes it ineligible. An ineligible partner rolls the spending back.
    let accepted = store::settle_invitation(
        tx,
        invitation,
        InvitationState::Accepted,
        Some(partner.id),
        now,
    )
    .await?;
    if !accepted {
        // A concurrent acceptance (or revocation) committed first.
        let now: Invitation = store::invitation(tx, None, invitation.id)
            .await?
            .ok_or(AccountsError::InvitationNotFound)?
            .try_into()?;
        refuse_settled(now.state)?;
        return Err(KernelError::Conflict.into());
    }
    check_eligible(tx, invitation, partner).await?;
    let program = invitation.program;
    let already = AccountsError::ProgramAlreadyJoined {
        program: program.as_str(),
    };
    // Five plain strings always serialise.
    let business_info = serde_json::to_value(business).unwrap_or_default();
    let enrolment: Enrolment =
        store::insert_enrolment(tx, partner.id, program, invitation.id, business_info, now)
            .await
            .map_err(|e| on_unique(e, already))?
            .try_into()?;
    if program == Program::Reseller
        && let Some(distributor) = invitation.inviter_partner_id
    {
        resellers::store::insert_link(tx, distributor, partner.id, now)
            .await
            .map_err(|e| {
                on_unique(
                    e,
                    AccountsError::Ineligible(Ineligibility::LinkedToAnotherDistributor),
                )
            })?;
    }
    // Audited as a change to the invitation, announced as the partner joining.
    let change = Change::of(Some(partner.id), invitation.id)
        .after(serde_json::json!({
            "partner_id": partner.id.to_string(),
            "program": program.as_str(),
            "invitation_id": invitation.id.to_string(),
            "distributor_id": invitation.inviter_partner_id.map(|p| p.to_string()),
            "business_info": business,
        }))
        .announce("program.joined");
    Ok((enrolment, change))
}

/// A unique-index violation means a concurrent writer got there first.
fn on_unique(e: DbErr, conflict: AccountsError) -> AccountsError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => conflict,
        _ => AccountsError::from(e),
    }
}
