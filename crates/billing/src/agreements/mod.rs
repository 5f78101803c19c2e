//! Payment on behalf (`PaymentAgreementService`, 代付): a payer partner
//! proposes to pay the orders of one of its customers or resellers; the
//! payee accepts; either side ends it. Order payment will use an ACTIVE one.

pub mod entity;
pub mod grpc;
pub mod model;

use partner_accounts::tenant::resolve_in;
use partner_api::billing::v1 as pb;
use partner_customers::customers::store as customer_store;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, PaymentAgreementId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use self::model::{Agreement, AgreementState, AgreementType, Party};
use crate::access::{FUNDS_READ, FUNDS_TRANSFER, SELF_AGREEMENTS_MANAGE, SELF_FUNDS_READ};
use crate::error::BillingError;
use crate::service::Billing;

const LIST: &str = "partner.billing.v1.PaymentAgreementService/ListPaymentAgreements";

/// The party a caller is: a customer itself (with `customer` permission), or
/// a partner's user (with `partner`).
fn party(
    p: &Principal,
    partner: partner_kernel::permission::Permission,
    customer: partner_kernel::permission::Permission,
) -> Result<Party, KernelError> {
    match p.customer_id() {
        Some(c) => p.require(customer).map(|()| Party::Customer(c)),
        None => p.require_partner(partner).map(Party::Partner),
    }
}

/// Locks the agreement `id` and says who pays through it, now, an order of
/// `partner`'s customer `customer`: `partner` itself (a CUSTOMER agreement
/// with that customer), or `partner`'s distributor (a RESELLER agreement
/// with `partner`, over a link active now: `RESELLER_NOT_FOUND` otherwise).
/// One not ACTIVE is `AGREEMENT_NOT_ACTIVE`; any other,
/// `AGREEMENT_NOT_FOUND`.
///
/// A customer calling uses only its own CUSTOMER agreement: a RESELLER one
/// is between the two partners, whose users alone spend through it.
pub(crate) async fn payer_of(
    tx: &sea_orm::DatabaseTransaction,
    id: PaymentAgreementId,
    (partner, customer): (PartnerId, CustomerId),
    by_customer: bool,
) -> Result<PartnerId, BillingError> {
    let a = find(tx, id, Party::Partner(partner), true).await?;
    if by_customer && a.agreement_type == AgreementType::Reseller {
        return Err(BillingError::AgreementNotFound);
    }
    let payer = match a.agreement_type {
        AgreementType::Customer if a.payer == partner && a.payee_id == customer.to_string() => {
            partner
        }
        AgreementType::Reseller if a.payee_id == partner.to_string() => a.payer,
        AgreementType::Customer | AgreementType::Reseller => {
            return Err(BillingError::AgreementNotFound);
        }
    };
    if a.state != AgreementState::Active {
        return Err(BillingError::AgreementNotActive {
            state: a.state.as_str(),
        });
    }
    if a.agreement_type == AgreementType::Reseller {
        resolve_in(tx, payer, Some(partner)).await?;
    }
    Ok(payer)
}

async fn find(
    conn: &impl ConnectionTrait,
    id: PaymentAgreementId,
    party: Party,
    lock: bool,
) -> Result<Agreement, BillingError> {
    let mut query = entity::Entity::find_by_id(id.to_string());
    if lock {
        query = query.lock_exclusive();
    }
    let found = query
        .one(conn)
        .await?
        .map(|row| Agreement::from_row(&row))
        .transpose()?
        .filter(|a| a.visible_to(party));
    found.ok_or(BillingError::AgreementNotFound)
}

/// Moves the agreement to `to` over the state it was read in (a concurrent
/// change meanwhile is `ABORTED`).
async fn transition(
    conn: &impl ConnectionTrait,
    before: &Agreement,
    to: AgreementState,
    set: impl FnOnce(&mut entity::ActiveModel),
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), BillingError> {
    let mut row = entity::ActiveModel {
        state: Set(to.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    set(&mut row);
    let changed = entity::Entity::update_many()
        .set(row)
        .filter(entity::Column::Id.eq(before.id.to_string()))
        .filter(entity::Column::State.eq(before.state.as_str()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed == 1 {
        Ok(())
    } else {
        Err(KernelError::Conflict.into())
    }
}

/// Ends `before` as `by` (a party's id) said, over the state it was read in;
/// returns it ended and the audit change.
async fn end(
    conn: &impl ConnectionTrait,
    before: &Agreement,
    by: String,
    reason: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Agreement, Change), BillingError> {
    let kept = Some(reason.clone()).filter(|r| !r.is_empty());
    let (row_by, row_reason) = (by.clone(), kept.clone());
    transition(
        conn,
        before,
        AgreementState::Terminated,
        move |row| {
            row.terminated_at = Set(Some(now));
            row.terminated_by = Set(Some(row_by));
            row.terminate_reason = Set(row_reason);
        },
        now,
    )
    .await?;
    let after = Agreement {
        state: AgreementState::Terminated,
        terminated_at: Some(now),
        terminated_by: Some(by),
        terminate_reason: kept,
        ..before.clone()
    };
    let change = Change::of(Some(before.payer), before.id)
        .before(before.audit_summary())
        .after(after.audit_summary())
        .reason(reason);
    Ok((after, change))
}

/// Ends the partner's open agreements to pay `customer`'s orders, as the
/// partner, inside the disassociation: a customer that left is no longer
/// the partner's to pay for.
pub(crate) async fn end_with_leaving_customer(
    tx: &sea_orm::DatabaseTransaction,
    partner: PartnerId,
    customer: CustomerId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Change>, BillingError> {
    let open = entity::Entity::find()
        .filter(entity::Column::PayerPartnerId.eq(partner.to_string()))
        .filter(entity::Column::PayeeId.eq(customer.to_string()))
        .filter(entity::Column::State.is_in([
            AgreementState::Pending.as_str(),
            AgreementState::Active.as_str(),
        ]))
        .lock_exclusive()
        .all(tx)
        .await?;
    let mut changes = Vec::with_capacity(open.len());
    for row in &open {
        let before = Agreement::from_row(row)?;
        let (_, change) = end(
            tx,
            &before,
            partner.to_string(),
            "the customer left the partner".to_owned(),
            now,
        )
        .await?;
        changes.push(change);
    }
    Ok(changes)
}

impl Billing {
    /// The caller's partner proposes to pay `payee`'s orders.
    pub async fn create_agreement(
        &self,
        m: Mutation,
        agreement_type: AgreementType,
        payee: String,
    ) -> Result<pb::CreatePaymentAgreementResponse, BillingError> {
        let own = m.principal.require_partner(FUNDS_TRANSFER)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                match agreement_type {
                    AgreementType::Customer => {
                        let customer = CustomerId::parse(&payee)
                            .map_err(|_| BillingError::CustomerNotFound)?;
                        customer_store::customer_of_for_update(tx, own, customer)
                            .await?
                            .ok_or(BillingError::CustomerNotFound)?;
                    }
                    AgreementType::Reseller => {
                        let reseller = PartnerId::parse(&payee).map_err(|_| {
                            BillingError::Accounts(
                                partner_accounts::AccountsError::ResellerNotFound,
                            )
                        })?;
                        resolve_in(tx, own, Some(reseller)).await?;
                    }
                }
                partner_kernel::db::lock_key(tx, &format!("payment-agreement:{own}:{payee}"))
                    .await?;
                let open = entity::Entity::find()
                    .filter(entity::Column::PayerPartnerId.eq(own.to_string()))
                    .filter(entity::Column::PayeeId.eq(payee.as_str()))
                    .filter(entity::Column::State.is_in([
                        AgreementState::Pending.as_str(),
                        AgreementState::Active.as_str(),
                    ]))
                    .one(tx)
                    .await?;
                if open.is_some() {
                    return Err(BillingError::AgreementExists);
                }
                let agreement = Agreement {
                    id: PaymentAgreementId::generate(),
                    agreement_type,
                    state: AgreementState::Pending,
                    payer: own,
                    payee_id: payee,
                    created_at: now,
                    accepted_at: None,
                    terminated_at: None,
                    terminated_by: None,
                    terminate_reason: None,
                };
                entity::Entity::insert(entity::ActiveModel {
                    id: Set(agreement.id.to_string()),
                    agreement_type: Set(agreement_type.as_str().to_owned()),
                    state: Set(AgreementState::Pending.as_str().to_owned()),
                    payer_partner_id: Set(own.to_string()),
                    payee_id: Set(agreement.payee_id.clone()),
                    created_at: Set(now),
                    accepted_at: Set(None),
                    terminated_at: Set(None),
                    terminated_by: Set(None),
                    terminate_reason: Set(None),
                    updated_at: Set(now),
                })
                .exec_without_returning(tx)
                .await?;
                let change = Change::of(Some(own), agreement.id).after(agreement.audit_summary());
                let response = pb::CreatePaymentAgreementResponse {
                    agreement: Some(agreement.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// The payee accepts a pending agreement.
    pub async fn accept_agreement(
        &self,
        m: Mutation,
        id: PaymentAgreementId,
    ) -> Result<pb::AcceptPaymentAgreementResponse, BillingError> {
        let party = party(&m.principal, FUNDS_TRANSFER, SELF_AGREEMENTS_MANAGE)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = find(tx, id, party, false).await?;
                if !before.is_payee(party) {
                    return Err(BillingError::NotThePayee);
                }
                if before.state != AgreementState::Pending {
                    return Err(BillingError::AgreementNotPending {
                        state: before.state.as_str(),
                    });
                }
                // The two must still be partner and customer (or distributor
                // and ACTIVE reseller), locked in the order a disassociation
                // takes them: the relationship, then the agreement (whose
                // change applies only over the state read).
                match party {
                    Party::Customer(customer) => {
                        customer_store::customer_of_for_update(tx, before.payer, customer)
                            .await?
                            .ok_or(BillingError::CustomerNotFound)?;
                    }
                    Party::Partner(reseller) => {
                        resolve_in(tx, before.payer, Some(reseller)).await?;
                    }
                }
                transition(
                    tx,
                    &before,
                    AgreementState::Active,
                    |row| row.accepted_at = Set(Some(now)),
                    now,
                )
                .await?;
                let after = Agreement {
                    state: AgreementState::Active,
                    accepted_at: Some(now),
                    ..before.clone()
                };
                let change = Change::of(Some(before.payer), id)
                    .before(before.audit_summary())
                    .after(after.audit_summary());
                let response = pb::AcceptPaymentAgreementResponse {
                    agreement: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// The payer or the payee ends a pending or active agreement.
    pub async fn terminate_agreement(
        &self,
        m: Mutation,
        id: PaymentAgreementId,
        reason: String,
    ) -> Result<pb::TerminatePaymentAgreementResponse, BillingError> {
        let party = party(&m.principal, FUNDS_TRANSFER, SELF_AGREEMENTS_MANAGE)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = find(tx, id, party, true).await?;
                if before.state == AgreementState::Terminated {
                    return Err(BillingError::AgreementTerminated);
                }
                let (after, change) = end(tx, &before, party.id(), reason, now).await?;
                let response = pb::TerminatePaymentAgreementResponse {
                    agreement: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// One agreement the caller pays or is paid by.
    pub async fn get_agreement(
        &self,
        p: &Principal,
        id: PaymentAgreementId,
    ) -> Result<pb::PaymentAgreement, BillingError> {
        let party = party(p, FUNDS_READ, SELF_FUNDS_READ)?;
        Ok(find(self.db().conn(), id, party, false).await?.to_proto())
    }

    /// The agreements the caller pays or is paid by, newest first.
    pub async fn list_agreements(
        &self,
        p: &Principal,
        state: Option<AgreementState>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::PaymentAgreement>, BillingError> {
        let party = party(p, FUNDS_READ, SELF_FUNDS_READ)?;
        let mut mine = Condition::any().add(entity::Column::PayeeId.eq(party.id()));
        if let Party::Partner(own) = party {
            mine = mine.add(entity::Column::PayerPartnerId.eq(own.to_string()));
        }
        let mut query = entity::Entity::find().filter(mine);
        if let Some(state) = state {
            query = query.filter(entity::Column::State.eq(state.as_str()));
        }
        let scope = PageScope::new(LIST, &party.id())
            .filter("state", state.map_or("", AgreementState::as_str));
        let page = self
            .page_by_id(query, entity::Column::Id, &scope, size, token, |r| {
                r.id.clone()
            })
            .await?;
        Ok(page.try_map(|row| Agreement::from_row(&row).map(|a| a.to_proto()))?)
    }
}
