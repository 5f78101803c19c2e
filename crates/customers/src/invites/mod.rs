//! Association by invitation: a partner makes an invitation (a secret
//! token, a link and the QR payload of the link); a customer signed in
//! itself accepts it, or a newcomer signs up with one made for its
//! sales-platform account. The operator keeps the facts about customers that
//! refuse an association.

pub mod model;
pub mod store;

use chrono::Duration;
use partner_api::customers::v1 as pb;
use partner_kernel::bearer;
use partner_kernel::ids::CustomerId;
use partner_kernel::mutation::{Call, Mutation};
use partner_kernel::principal::Principal;
use partner_kernel::time;
use partner_kernel::write::{self, Change, Outcome};
use uuid::Uuid;

pub use model::Invite;

use crate::access as perm;
use crate::customers::store::{self as customer_store, Facts, NewCustomerRow};
use crate::customers::{AssociationType, Customer, FreezeMode, rules};
use crate::error::CustomersError;
use crate::service::Customers;

/// An invitation to make, after parsing.
#[derive(Debug)]
pub struct NewInvite {
    pub association_type: AssociationType,
    pub valid_for: Duration,
    pub max_uses: i32,
    /// The sales-platform account it is for (then single-use).
    pub xaccount: Option<(String, String)>,
}

/// A newcomer signing up with an invitation, after parsing. Its mapping
/// and association come from the invitation.
#[derive(Debug)]
pub struct SignUp {
    pub token: String,
    pub account_name: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub password: String,
    pub country: String,
}

/// Why `customer` cannot be associated, by the operator's facts and its
/// current association; checked in this order.
fn refusal(customer: &Customer, facts: Facts) -> Option<&'static str> {
    if facts.registered_on_other_site {
        Some("REGISTERED_ON_OTHER_SITE")
    } else if customer.partner_id.is_some() {
        Some("ALREADY_ASSOCIATED")
    } else if facts.is_partner {
        Some("CUSTOMER_IS_PARTNER")
    } else if facts.reported {
        Some("CUSTOMER_REPORTED")
    } else if facts.in_subsidy_program {
        Some("IN_SUBSIDY_PROGRAM")
    } else {
        None
    }
}

/// A suspended or terminated partner's invitations are dead: it could not
/// create customers itself either.
async fn inviter_may_associate(
    conn: &impl sea_orm::ConnectionTrait,
    partner: partner_kernel::ids::PartnerId,
) -> Result<(), CustomersError> {
    use partner_accounts::partners::PartnerState;
    match partner_accounts::Accounts::partner_in(conn, partner)
        .await?
        .state
    {
        PartnerState::Active | PartnerState::PendingVerification => Ok(()),
        PartnerState::Suspended | PartnerState::Terminated => Err(CustomersError::InviteNotFound),
    }
}

fn facts_to_proto(f: Facts) -> pb::CustomerFacts {
    pb::CustomerFacts {
        registered_on_other_site: f.registered_on_other_site,
        is_partner: f.is_partner,
        reported: f.reported,
        in_subsidy_program: f.in_subsidy_program,
    }
}

fn facts_json(f: Facts) -> serde_json::Value {
    serde_json::json!({
        "registered_on_other_site": f.registered_on_other_site,
        "is_partner": f.is_partner,
        "reported": f.reported,
        "in_subsidy_program": f.in_subsidy_program,
    })
}

impl Customers {
    /// Makes an invitation of the caller's partner. The token is in the
    /// answer of the call that made it only; a replay answers without it.
    pub async fn create_invite(
        &self,
        m: Mutation,
        cmd: NewInvite,
    ) -> Result<pb::CreateAssociationInviteResponse, CustomersError> {
        let partner = m.principal.require_partner(perm::CUSTOMERS_INVITE)?;
        let user = m.principal.user()?;
        let token = bearer::new_token(model::TOKEN_PREFIX)?;
        let hash = bearer::token_sha256(&token);
        let now = m.now;
        let expires_at = time::checked_add(now, cmd.valid_for).map_err(|e| {
            partner_kernel::error::KernelError::Corrupt(format!("invite expiry: {e}"))
        })?;
        let invite = Invite {
            id: format!("{}{}", model::ID_PREFIX, Uuid::now_v7().simple()),
            partner_id: partner,
            association_type: cmd.association_type,
            xaccount: cmd.xaccount,
            max_uses: cmd.max_uses,
            uses: 0,
            failed_sign_ups: 0,
            expires_at,
            revoked_at: None,
            created_at: now,
        };
        let id = invite.id.clone();
        let mut response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                if let Some((platform, account)) = &invite.xaccount {
                    if !partner_accounts::Accounts::owns_sales_platform(tx, partner, platform)
                        .await?
                    {
                        return Err(CustomersError::SalesPlatformNotFound);
                    }
                    if customer_store::platform_mapping_taken(tx, platform, account).await? {
                        return Err(CustomersError::XaccountTaken);
                    }
                }
                store::insert(tx, &invite, hash, user).await?;
                let change = Change::of(Some(partner), &invite.id)
                    .after(invite.audit_summary())
                    .announce("customer.invite_created");
                let response = pb::CreateAssociationInviteResponse {
                    invite: Some(invite.to_proto()),
                    ..Default::default()
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await?;
        let fresh = response.invite.as_ref().is_some_and(|i| i.invite_id == id);
        if fresh {
            response.link = format!("{}/associate?token={token}", self.invite_link_base());
            response.qr_payload = response.link.clone();
            response.token = token;
        }
        Ok(response)
    }

    /// Revokes one of the caller's partner's invitations.
    pub async fn revoke_invite(
        &self,
        m: Mutation,
        id: String,
    ) -> Result<pb::RevokeAssociationInviteResponse, CustomersError> {
        let partner = m.principal.require_partner(perm::CUSTOMERS_INVITE)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = store::of_partner_for_update(tx, partner, &id)
                    .await?
                    .ok_or(CustomersError::InviteNotFound)?;
                store::revoke(tx, partner, &id, now).await?;
                let after = Invite {
                    revoked_at: before.revoked_at.or(Some(now)),
                    ..before.clone()
                };
                let change = Change::of(Some(partner), &id)
                    .before(before.audit_summary())
                    .after(after.audit_summary());
                let response = pb::RevokeAssociationInviteResponse {
                    invite: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// The customer signed in itself accepts an invitation and is
    /// associated with its partner (the refusals: [`refusal`]).
    pub async fn accept_invite(
        &self,
        m: Mutation,
        token: String,
    ) -> Result<pb::AcceptAssociationInviteResponse, CustomersError> {
        m.principal.require(perm::SELF_ASSOCIATIONS_ACCEPT)?;
        let customer = m
            .principal
            .customer_id()
            .ok_or(CustomersError::CustomerNotFound)?;
        let hash = bearer::token_sha256(&token);
        let now = m.now;
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let invite = store::platform_by_token_hash(tx, &hash, true)
                    .await?
                    .filter(|i| i.usable_at(now))
                    .ok_or(CustomersError::InviteNotFound)?;
                inviter_may_associate(tx, invite.partner_id).await?;
                let (found, facts) = customer_store::platform_customer_for_update(tx, customer)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                // An invitation made for one account is for that account only.
                if let Some((platform, account)) = &invite.xaccount
                    && (platform != &found.xaccount_type || account != &found.xaccount_id)
                {
                    return Err(CustomersError::InviteNotFound);
                }
                if found.freeze_mode != FreezeMode::None {
                    return Err(CustomersError::CustomerFrozen);
                }
                if let Some(reason) = refusal(&found, facts) {
                    return Err(CustomersError::AssociationRefused(reason));
                }
                let partner = invite.partner_id;
                if !customer_store::associate(tx, customer, partner, invite.association_type, now)
                    .await?
                {
                    return Err(CustomersError::AssociationRefused("ALREADY_ASSOCIATED"));
                }
                if !store::spend(tx, &invite.id, now).await? {
                    return Err(CustomersError::InviteNotFound);
                }
                let change = Change::of(Some(partner), customer)
                    .after(serde_json::json!({
                        "partner_id": partner.to_string(),
                        "association_type": invite.association_type.as_str(),
                        "invite_id": invite.id,
                    }))
                    .announce("customer.associated");
                let response = pb::AcceptAssociationInviteResponse {
                    customer_id: customer.to_string(),
                    partner_id: partner.to_string(),
                    association_type: invite.association_type.to_proto().into(),
                    associate_time: Some(partner_kernel::clock::to_proto_timestamp(now)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_status(&answer, customer);
        answer
    }

    /// Signs a newcomer up with an invitation made for one sales-platform
    /// account: the customer is created mapped to it and associated with the
    /// inviting partner. Public: the token is the credential, and the
    /// idempotency key is bound to the invitation. Cheap refusals come
    /// before the password is hashed.
    pub async fn sign_up_with_invite(
        &self,
        call: Call,
        request_id: Uuid,
        cmd: SignUp,
    ) -> Result<pb::SignUpWithAssociationInviteResponse, CustomersError> {
        let now = call.now();
        let hash = bearer::token_sha256(&cmd.token);
        let invite = store::platform_by_token_hash(self.db().conn(), &hash, false)
            .await?
            .ok_or(CustomersError::InviteNotFound)?;
        let id = CustomerId::generate();
        // The newcomer is the actor of its own sign-up.
        let m = call
            .mutation_as(Principal::sessionless_customer(id), request_id)
            .keyed_by(invite.id.clone());
        // A used-up invitation goes on only as a replay of the call that used it.
        if let Some(replay) = write::replayed(self.db(), &m).await? {
            return Ok(replay);
        }
        if !invite.usable_at(now) {
            return Err(CustomersError::InviteNotFound);
        }
        let Some((xaccount_type, xaccount_id)) = invite.xaccount.clone() else {
            return Err(CustomersError::InviteNotForSignUp);
        };
        let account_name = match cmd.account_name {
            Some(name) => name,
            None => rules::generated_account_name().map_err(|e| {
                partner_kernel::error::KernelError::Corrupt(format!("no randomness: {e}"))
            })?,
        };
        let partner = invite.partner_id;
        let row = NewCustomerRow {
            id,
            partner_id: partner,
            xaccount_type,
            xaccount_id,
            account_name,
            email: cmd.email,
            mobile: cmd.mobile,
            country: cmd.country,
            password_hash: None,
            association_type: invite.association_type,
        };
        if let Err(refused) =
            crate::customers::admissible_for(self.db().conn(), partner, &row).await
        {
            // Each refusal tells whether an identity is taken: counted
            // before it is told, and the invitation is spent after a few.
            if !store::count_failed_sign_up(self.db().conn(), &invite.id).await? {
                return Err(CustomersError::InviteNotFound);
            }
            return Err(refused);
        }
        let password_hash = self.hash_password(cmd.password).await?;
        let row = NewCustomerRow {
            password_hash: Some(password_hash),
            ..row
        };
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let invite = store::platform_by_token_hash(tx, &hash, true)
                    .await?
                    .filter(|i| i.usable_at(now))
                    .ok_or(CustomersError::InviteNotFound)?;
                inviter_may_associate(tx, partner).await?;
                crate::customers::admissible_for(tx, partner, &row).await?;
                let customer = customer_store::insert(tx, row, now).await?;
                if !store::spend(tx, &invite.id, now).await? {
                    return Err(CustomersError::InviteNotFound);
                }
                let mut summary = customer.audit_summary();
                summary["invite_id"] = serde_json::json!(invite.id);
                let change = Change::of(Some(partner), customer.id)
                    .after(summary)
                    .announce("customer.created");
                let response = pb::SignUpWithAssociationInviteResponse {
                    customer_id: customer.id.to_string(),
                    account_name: customer.account_name.clone(),
                    partner_id: partner.to_string(),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// Operator: sets the facts about a customer that refuse associating it.
    pub async fn set_facts(
        &self,
        m: Mutation,
        id: CustomerId,
        facts: Facts,
    ) -> Result<pb::SetCustomerFactsResponse, CustomersError> {
        m.principal.require(perm::PLATFORM_CUSTOMERS_MANAGE)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (_, before) = customer_store::platform_customer_for_update(tx, id)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                customer_store::platform_set_facts(tx, id, facts, now).await?;
                let change = Change::of(None, id)
                    .before(facts_json(before))
                    .after(facts_json(facts));
                let response = pb::SetCustomerFactsResponse {
                    customer_id: id.to_string(),
                    facts: Some(facts_to_proto(facts)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }
}

impl From<pb::CustomerFacts> for Facts {
    fn from(f: pb::CustomerFacts) -> Facts {
        Facts {
            registered_on_other_site: f.registered_on_other_site,
            is_partner: f.is_partner,
            reported: f.reported,
            in_subsidy_program: f.in_subsidy_program,
        }
    }
}
