//! Leads: prospective customers a partner found or the operator dispatched
//! to it. `NEW → FOLLOWING → CONVERTED | CLOSED`. For partners in marketing
//! programme 2.0 a dispatched lead's phone and email are masked in every
//! answer, and calls to it are brokered (`RequestOutboundCall`).

pub mod model;
pub mod store;

pub use model::{Lead, LeadSource, LeadState};
pub use store::{LeadFilter, Owner};

use partner_accounts::{Accounts, AccountsError};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::DatabaseTransaction;

use crate::access as perm;
use crate::customers::store as customer_store;
use crate::error::CustomersError;
use crate::service::{Customers, PageRequest};

/// The fields of a new lead, or of an update (`None`: unchanged).
#[derive(Debug, Default, Clone)]
pub struct LeadFields {
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
}

/// Parses a `led_…` id.
pub fn parse_id(raw: &str) -> Result<String, &'static str> {
    let ok = raw.strip_prefix("led_").is_some_and(|b| {
        b.len() == 32
            && b.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("expected an id starting with `led_`")
    }
}

/// What a verb does to an open lead of the caller's partner.
#[derive(Debug, Clone)]
pub enum LeadChange {
    Update(LeadFields),
    FollowUp(String),
    Close(String),
    Convert(CustomerId),
    Call,
}

impl Customers {
    /// Whether `partner` sees dispatched leads' contacts masked.
    async fn masks(&self, partner: PartnerId) -> Result<bool, CustomersError> {
        Ok(self
            .accounts()
            .partner_record(partner)
            .await?
            .marketing_programme_v2)
    }

    /// A lead as `partner` may see it.
    async fn shown(
        &self,
        partner: Option<PartnerId>,
        l: &Lead,
    ) -> Result<pb::Lead, CustomersError> {
        let masked = match partner {
            Some(p) if l.source == LeadSource::Dispatched => self.masks(p).await?,
            Some(_) | None => false,
        };
        Ok(l.to_proto(masked))
    }

    /// Creates a lead: a partner's own, or the operator's, to dispatch.
    pub async fn create_lead(
        &self,
        m: Mutation,
        fields: LeadFields,
    ) -> Result<pb::CreateLeadResponse, CustomersError> {
        let owner = if m.principal.is_operator() {
            m.principal.require(perm::PLATFORM_LEADS_MANAGE)?;
            None
        } else {
            Some(m.principal.require_partner(perm::LEADS_MANAGE)?)
        };
        let now = m.now;
        let lead = Lead {
            id: format!("led_{}", uuid::Uuid::now_v7().simple()),
            partner_id: owner,
            source: if owner.is_some() {
                LeadSource::Partner
            } else {
                LeadSource::Dispatched
            },
            state: LeadState::New,
            company_name: fields.company_name.unwrap_or_default(),
            contact_name: fields.contact_name.unwrap_or_default(),
            phone: fields.phone.unwrap_or_default(),
            email: fields.email.unwrap_or_default(),
            description: fields.description.unwrap_or_default(),
            customer_id: None,
            close_reason: None,
            dispatched_at: None,
            created_at: now,
            updated_at: now,
        };
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                store::insert(tx, &lead).await?;
                let mut change = Change::of(owner, &lead.id).after(lead.audit_summary());
                if owner.is_some() {
                    change = change.announce("lead.created");
                }
                let response = pb::CreateLeadResponse {
                    // The creator sees what it typed.
                    lead: Some(lead.to_proto(false)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// One lead and its follow-ups.
    pub async fn get_lead(
        &self,
        p: &Principal,
        id: &str,
    ) -> Result<pb::GetLeadResponse, CustomersError> {
        let conn = self.db().conn();
        let (partner, lead) = if p.is_operator() {
            p.require(perm::PLATFORM_LEADS_READ)?;
            (None, store::platform_lead(conn, id, false).await?)
        } else {
            let partner = p.require_partner(perm::LEADS_READ)?;
            (Some(partner), store::lead_of(conn, partner, id).await?)
        };
        let lead = lead.ok_or(CustomersError::LeadNotFound)?;
        let follow_ups = store::follow_ups(conn, &lead.id)
            .await?
            .into_iter()
            .map(|f| pb::FollowUp {
                author_user_id: f.author,
                note: f.note,
                create_time: Some(to_proto_timestamp(f.created_at)),
            })
            .collect();
        Ok(pb::GetLeadResponse {
            lead: Some(self.shown(partner, &lead).await?),
            follow_ups,
        })
    }

    /// A page of leads: a partner's own; the operator's by owner.
    pub async fn list_leads(
        &self,
        p: &Principal,
        owner: Option<Owner>,
        filter: LeadFilter,
        page: PageRequest,
    ) -> Result<Page<pb::Lead>, CustomersError> {
        let (owner, viewer, tenant) = if p.is_operator() {
            p.require(perm::PLATFORM_LEADS_READ)?;
            let owner = owner.unwrap_or(Owner::Everyone);
            let tenant = match owner {
                Owner::Partner(id) => format!("platform:{id}"),
                Owner::Pool => "platform:pool".to_owned(),
                Owner::Everyone => "platform".to_owned(),
            };
            (owner, None, tenant)
        } else {
            let partner = p.require_partner(perm::LEADS_READ)?;
            if owner.is_some() {
                return Err(CustomersError::Kernel(
                    partner_kernel::error::KernelError::MissingPermission(
                        perm::PLATFORM_LEADS_READ.id(),
                    ),
                ));
            }
            (Owner::Partner(partner), Some(partner), partner.to_string())
        };
        let scope = PageScope::new("ListLeads", &tenant)
            .filter("state", filter.state.map_or("", LeadState::as_str))
            .filter("source", filter.source.map_or("", LeadSource::as_str));
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows = store::list(
            self.db().conn(),
            owner,
            filter,
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        let page = self.paginate(rows, page.size, &scope, |l| l.id.clone());
        let masked = match viewer {
            Some(p) => self.masks(p).await?,
            None => false,
        };
        Ok(Page {
            items: page
                .items
                .iter()
                .map(|l| l.to_proto(masked && l.source == LeadSource::Dispatched))
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// Changes one of the caller's open leads; `respond` builds the verb's
    /// answer (which a replay returns) from what the change made.
    pub async fn change_lead<R>(
        &self,
        m: Mutation,
        id: String,
        change: LeadChange,
        respond: fn(LeadAnswer) -> R,
    ) -> Result<R, CustomersError>
    where
        R: prost::Message + Default + Send + 'static,
    {
        let partner = m.principal.require_partner(perm::LEADS_MANAGE)?;
        let (now, actor) = (m.now, m.principal.user()?);
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                // Read in the transaction: the stored answer is replayed, so
                // it must not be built from a stale programme flag.
                let masked = Accounts::partner_in(tx, partner)
                    .await?
                    .marketing_programme_v2;
                let before = store::lead_of_for_update(tx, partner, &id)
                    .await?
                    .ok_or(CustomersError::LeadNotFound)?;
                if !before.state.is_open() {
                    return Err(CustomersError::LeadStateConflict {
                        state: before.state.as_str(),
                    });
                }
                let applied = apply(tx, partner, &before, change, actor, now).await?;
                let after = applied.lead;
                store::save(tx, &before, &after).await?;
                let mut audit = Change::of(Some(partner), &after.id)
                    .before(before.audit_summary())
                    .after(after.audit_summary());
                if let Some(event) = applied.event {
                    audit = audit.announce(event);
                }
                let answer = LeadAnswer {
                    lead: after.to_proto(masked && after.source == LeadSource::Dispatched),
                    follow_up: applied.follow_up,
                    call: applied.call.clone(),
                };
                let mut outcome = Outcome::new(respond(answer), audit);
                if let Some(call) = applied.call {
                    outcome = outcome.and(Change::of(Some(partner), &call.call_id).after(
                        serde_json::json!({
                            "lead_id": call.lead_id,
                            "requested_by": call.requested_by_user_id,
                        }),
                    ));
                }
                Ok(outcome)
            })
        })
        .await
    }

    /// Operator: dispatches an undispatched lead to `partner`.
    pub async fn dispatch_lead(
        &self,
        m: Mutation,
        id: String,
        partner: PartnerId,
    ) -> Result<pb::DispatchLeadResponse, CustomersError> {
        m.principal.require(perm::PLATFORM_LEADS_MANAGE)?;
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = store::platform_lead(tx, &id, true)
                    .await?
                    .ok_or(CustomersError::LeadNotFound)?;
                if before.partner_id.is_some() || before.source != LeadSource::Dispatched {
                    return Err(CustomersError::LeadStateConflict {
                        state: "DISPATCHED",
                    });
                }
                let target = Accounts::partner_in(tx, partner).await;
                if let Err(AccountsError::PartnerNotFound) = target {
                    return Err(CustomersError::PartnerNotFound);
                }
                // A lead dispatched to a partner that cannot work it would be stuck.
                let state = target?.state;
                if state != partner_accounts::partners::PartnerState::Active {
                    return Err(CustomersError::Accounts(
                        AccountsError::PartnerStateConflict {
                            state: state.as_str(),
                        },
                    ));
                }
                let after = Lead {
                    partner_id: Some(partner),
                    dispatched_at: Some(now),
                    updated_at: now,
                    ..before.clone()
                };
                store::save(tx, &before, &after).await?;
                let change = Change::of(Some(partner), &after.id)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("lead.dispatched");
                Ok(Outcome::new(
                    pb::DispatchLeadResponse {
                        lead: Some(after.to_proto(false)),
                    },
                    change,
                ))
            })
        })
        .await?;
        Ok(response)
    }
}

/// What a change made, for the verb's answer.
#[derive(Debug, Clone)]
pub struct LeadAnswer {
    /// The lead after it, as the caller may see it.
    pub lead: pb::Lead,
    /// The follow-up recorded, if any.
    pub follow_up: Option<pb::FollowUp>,
    /// The brokered call recorded, if any.
    pub call: Option<pb::OutboundCall>,
}

/// What [`apply`] made.
struct Applied {
    lead: Lead,
    follow_up: Option<pb::FollowUp>,
    call: Option<pb::OutboundCall>,
    event: Option<&'static str>,
}

/// The lead after `change` and what else it recorded.
async fn apply(
    tx: &DatabaseTransaction,
    partner: PartnerId,
    before: &Lead,
    change: LeadChange,
    actor: partner_kernel::ids::UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Applied, CustomersError> {
    let mut lead = Lead {
        updated_at: now,
        ..before.clone()
    };
    let (mut follow_up, mut call, mut event) = (None, None, None);
    match change {
        LeadChange::Update(f) => {
            let contact_changes = f.phone.is_some() || f.email.is_some();
            if contact_changes && before.source == LeadSource::Dispatched {
                return Err(CustomersError::LeadContactReadOnly);
            }
            lead.company_name = f.company_name.unwrap_or(lead.company_name);
            lead.contact_name = f.contact_name.unwrap_or(lead.contact_name);
            lead.phone = f.phone.unwrap_or(lead.phone);
            lead.email = f.email.unwrap_or(lead.email);
            lead.description = f.description.unwrap_or(lead.description);
        }
        LeadChange::FollowUp(note) => {
            store::insert_follow_up(tx, partner, &before.id, actor, &note, now).await?;
            lead.state = LeadState::Following;
            follow_up = Some(pb::FollowUp {
                author_user_id: actor.to_string(),
                note,
                create_time: Some(to_proto_timestamp(now)),
            });
        }
        LeadChange::Close(reason) => {
            lead.state = LeadState::Closed;
            lead.close_reason = Some(reason);
            event = Some("lead.closed");
        }
        LeadChange::Convert(customer) => {
            customer_store::customer_of(tx, partner, customer)
                .await?
                .ok_or(CustomersError::CustomerNotFound)?;
            lead.state = LeadState::Converted;
            lead.customer_id = Some(customer);
            event = Some("lead.converted");
        }
        LeadChange::Call => {
            let id = store::insert_call(tx, partner, &before.id, actor, now).await?;
            call = Some(pb::OutboundCall {
                call_id: id,
                lead_id: before.id.clone(),
                requested_by_user_id: actor.to_string(),
                request_time: Some(to_proto_timestamp(now)),
            });
        }
    }
    Ok(Applied {
        lead,
        follow_up,
        call,
        event,
    })
}
