//! Inviting partners to programs: create, list, revoke. The token is 256
//! random bits shown once to the inviter; only its SHA-256 is stored (a
//! high-entropy secret needs no slow hash), so a database reader cannot use
//! an invitation.

use chrono::{DateTime, Duration, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{InvitationId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::PageScope;
use partner_kernel::permission::Permission;
use partner_kernel::principal::Principal;
use partner_kernel::time;
use partner_kernel::write::{self, Change, Outcome};

use super::{Invitation, InvitationState, Inviter, Program, store};
use crate::access as perm;
use crate::error::AccountsError;
use crate::partners::store::load_partner;
use crate::service::{Accounts, Page, PageRequest};

/// How long an invitation works when the request does not say.
pub const DEFAULT_TTL: Duration = Duration::days(7);
/// The longest an invitation may work.
pub const MAX_TTL: Duration = Duration::days(30);
/// The shortest: anything less cannot reach a person by mail.
pub const MIN_TTL: Duration = Duration::minutes(1);
/// Prefix of invitation tokens, so a leaked one is recognisable in logs and scanners.
const TOKEN_PREFIX: &str = "pit_";

/// When an invitation expires, as requested.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    /// [`DEFAULT_TTL`] from now.
    Default,
    /// At this instant.
    At(DateTime<Utc>),
    /// This long from now.
    After(Duration),
}

/// An invitation to create.
#[derive(Debug)]
pub struct NewInvitation {
    pub email: String,
    pub program: Program,
    pub expiry: Expiry,
    /// The existing partner invited; `None` when a new partner will sign up.
    pub partner_id: Option<PartnerId>,
}

/// A fresh token.
fn new_token() -> Result<String, AccountsError> {
    Ok(partner_kernel::bearer::new_token(TOKEN_PREFIX)?)
}

/// The stored form of a token: SHA-256 in hex.
pub fn token_hash(token: &str) -> String {
    partner_kernel::bearer::token_sha256(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The expiry instant, or the violation of the field that asked for it.
fn expire_at(expiry: Expiry, now: DateTime<Utc>) -> Result<DateTime<Utc>, KernelError> {
    // Compared as spans from now, so no client value is ever added to a date
    // unchecked (a raw ttl of 2^63 ns-scale seconds must not panic).
    let (ttl, field) = match expiry {
        Expiry::Default => (DEFAULT_TTL, "ttl"),
        Expiry::At(at) => (at.signed_duration_since(now), "expire_time"),
        Expiry::After(ttl) => (ttl, "ttl"),
    };
    let invalid = |why: &str| KernelError::Invalid(vec![FieldViolation::new(field, why)]);
    if ttl < MIN_TTL || ttl > MAX_TTL {
        return Err(invalid("between 1 minute and 30 days from now"));
    }
    time::checked_add(now, ttl).map_err(invalid)
}

impl Accounts {
    /// Who is inviting: `None` for the operator, the distributor otherwise.
    /// The operator invites to every program but RESELLER; a partner only to
    /// RESELLER, and only while it is itself a distributor.
    async fn inviter_for(
        &self,
        p: &Principal,
        program: Program,
    ) -> Result<Option<PartnerId>, AccountsError> {
        let not_allowed = AccountsError::InvitationNotAllowed {
            program: program.as_str(),
        };
        if p.is_operator() {
            p.require(perm::PLATFORM_INVITATIONS_CREATE)?;
            return match program.inviter() {
                Inviter::Operator => Ok(None),
                Inviter::Distributor => Err(not_allowed),
            };
        }
        let own = p.require_partner(perm::INVITATIONS_CREATE)?;
        let distributor = store::is_enrolled(self.db().conn(), own, Program::Distributor).await?;
        match program.inviter() {
            Inviter::Distributor if distributor => Ok(Some(own)),
            Inviter::Distributor | Inviter::Operator => Err(not_allowed),
        }
    }

    /// Creates an invitation and returns it with its token. A replay of the
    /// same request returns the invitation without the token: the token is
    /// shown once and never stored.
    pub async fn create_invitation(
        &self,
        m: Mutation,
        cmd: NewInvitation,
    ) -> Result<pb::CreateInvitationResponse, AccountsError> {
        let inviter = self.inviter_for(&m.principal, cmd.program).await?;
        if inviter.is_some() && inviter == cmd.partner_id {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "partner_id",
                "a distributor cannot invite itself",
            )])
            .into());
        }
        let expire = expire_at(cmd.expiry, m.now)?;
        let token = new_token()?;
        let hash = token_hash(&token);
        let id = InvitationId::generate();
        let (now, inviter_user) = (m.now, m.principal.user()?);
        let mut response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                if let Some(invited) = cmd.partner_id {
                    load_partner(tx, invited).await?;
                }
                let row = store::InvitationRow {
                    id,
                    inviter_partner_id: inviter,
                    inviter_user_id: inviter_user,
                    program: cmd.program,
                    email: cmd.email,
                    partner_id: cmd.partner_id,
                    token_hash: hash,
                    expire_at: expire,
                };
                let created = store::insert_invitation(tx, row, now).await?;
                let change = Change::of(inviter, id)
                    .after(created.audit_summary())
                    .announce("invitation.created");
                let response = pb::CreateInvitationResponse {
                    invitation: Some(created.to_proto(now)),
                    token: String::new(),
                };
                Ok::<_, AccountsError>(Outcome::new(response, change))
            })
        })
        .await?;
        let fresh = response
            .invitation
            .as_ref()
            .is_some_and(|i| i.invitation_id == id.to_string());
        if fresh {
            response.token = token;
        }
        Ok(response)
    }

    /// Lists invitations: the operator all, a distributor those it sent.
    pub async fn list_invitations(
        &self,
        p: &Principal,
        page: PageRequest,
    ) -> Result<Page<pb::Invitation>, AccountsError> {
        let inviter =
            self.invitation_scope(p, perm::PLATFORM_INVITATIONS_READ, perm::INVITATIONS_READ)?;
        let tenant = inviter.map_or_else(|| "platform".to_owned(), |p| p.to_string());
        let scope = PageScope::new("ListInvitations", &tenant);
        let now = self.clock().now();
        let after = self.pages().decode(&scope, &page.token, now)?;
        let rows =
            store::list_invitations(self.db().conn(), inviter, after.as_deref(), page.size + 1)
                .await?;
        self.paginate(rows, page.size, &scope, |m| m.id.clone())
            .try_map(|row| Ok(Invitation::try_from(row)?.to_proto(now)))
            .map_err(AccountsError::from)
    }

    /// The operator sees every invitation (`None`), a partner those it sent.
    fn invitation_scope(
        &self,
        p: &Principal,
        platform: Permission,
        own: Permission,
    ) -> Result<Option<PartnerId>, AccountsError> {
        if p.is_operator() {
            p.require(platform)?;
            Ok(None)
        } else {
            Ok(Some(p.require_partner(own)?))
        }
    }

    /// Revokes a pending (or expired) invitation in the caller's view.
    pub async fn revoke_invitation(
        &self,
        m: Mutation,
        id: InvitationId,
        reason: String,
    ) -> Result<pb::RevokeInvitationResponse, AccountsError> {
        let inviter = self.invitation_scope(
            &m.principal,
            perm::PLATFORM_INVITATIONS_REVOKE,
            perm::INVITATIONS_REVOKE,
        )?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before: Invitation = store::invitation(tx, inviter, id)
                    .await?
                    .ok_or(AccountsError::InvitationNotFound)?
                    .try_into()?;
                refuse_settled(before.state)?;
                if !store::settle_invitation(tx, &before, InvitationState::Revoked, None, now)
                    .await?
                {
                    return Err(AccountsError::from(KernelError::Conflict));
                }
                let after = Invitation {
                    state: InvitationState::Revoked,
                    ..before.clone()
                };
                let change = Change::of(before.inviter_partner_id, id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("invitation.revoked");
                let response = pb::RevokeInvitationResponse {
                    invitation: Some(after.to_proto(now)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }
}

/// Refuses an invitation that is no longer pending, saying why.
pub(crate) fn refuse_settled(state: InvitationState) -> Result<(), AccountsError> {
    match state {
        InvitationState::Pending => Ok(()),
        InvitationState::Accepted => Err(AccountsError::InvitationAlreadyUsed),
        InvitationState::Revoked => Err(AccountsError::InvitationRevoked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = new_token().unwrap_or_else(|e| panic!("{e}"));
        let b = new_token().unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn expiry_defaults_and_bounds() {
        let now = Utc::now();
        assert_eq!(
            expire_at(Expiry::Default, now).ok(),
            Some(now + DEFAULT_TTL)
        );
        assert!(expire_at(Expiry::After(Duration::days(30)), now).is_ok());
        assert!(expire_at(Expiry::After(Duration::days(31)), now).is_err());
        assert!(expire_at(Expiry::After(Duration::seconds(5)), now).is_err());
        assert!(expire_at(Expiry::At(now - Duration::hours(1)), now).is_err());
        assert!(expire_at(Expiry::After(Duration::MAX), now).is_err());
        assert!(expire_at(Expiry::After(Duration::MIN), now).is_err());
    }
}
