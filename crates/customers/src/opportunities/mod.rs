//! Opportunities shared with the vendor: `SUBMITTED → ACCEPTED | REJECTED`,
//! `ACCEPTED → WON | LOST`. The platform routes each one: a prospect that is
//! already a customer of the platform (by email) goes to its account team,
//! a new one to the office the routing table names for its location.

pub mod model;
pub mod store;

pub use model::{Opportunity, OpportunityState, Routing, RoutingRule};
pub use store::Scope;

use partner_api::customers::v1 as pb;
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::ConnectionTrait;

use crate::access as perm;
use crate::customers::store as customer_store;
use crate::customers::store::Identity;
use crate::error::CustomersError;
use crate::service::{Customers, PageRequest};

/// An opportunity to submit, after parsing.
#[derive(Debug, Clone)]
pub struct NewOpportunity {
    pub customer_name: String,
    pub customer_email: String,
    pub country: String,
    pub region: String,
    pub description: String,
    pub expected_amount: Option<Money>,
}

/// A transition of an opportunity's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
    Won,
    Lost,
}

impl Verdict {
    /// The state it needs, the state it makes, and its event.
    fn transition(self) -> (OpportunityState, OpportunityState, &'static str) {
        match self {
            Self::Accept => (
                OpportunityState::Submitted,
                OpportunityState::Accepted,
                "opportunity.accepted",
            ),
            Self::Reject => (
                OpportunityState::Submitted,
                OpportunityState::Rejected,
                "opportunity.rejected",
            ),
            Self::Won => (
                OpportunityState::Accepted,
                OpportunityState::Won,
                "opportunity.won",
            ),
            Self::Lost => (
                OpportunityState::Accepted,
                OpportunityState::Lost,
                "opportunity.lost",
            ),
        }
    }

    /// Whether the operator gives it (else the submitting partner).
    fn by_operator(self) -> bool {
        matches!(self, Self::Accept | Self::Reject)
    }
}

/// Parses an `opp_…` id.
pub fn parse_id(raw: &str) -> Result<String, &'static str> {
    let ok = raw.strip_prefix("opp_").is_some_and(|b| {
        b.len() == 32
            && b.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("expected an id starting with `opp_`")
    }
}

/// Where an opportunity for `o` goes.
async fn routing_of(
    conn: &impl ConnectionTrait,
    o: &NewOpportunity,
) -> Result<(Routing, Option<String>), CustomersError> {
    let existing =
        customer_store::platform_identity_used(conn, Identity::Email, &o.customer_email).await?;
    let rule = store::route(conn, &o.country, &o.region).await?;
    Ok(match (existing, rule) {
        (true, rule) => (Routing::ExistingCustomer, rule.map(|r| r.office)),
        (false, Some(rule)) => (Routing::ByLocation, Some(rule.office)),
        (false, None) => (Routing::Unrouted, None),
    })
}

impl Customers {
    /// Submits and routes an opportunity of the caller's partner.
    pub async fn submit_opportunity(
        &self,
        m: Mutation,
        o: NewOpportunity,
    ) -> Result<pb::SubmitOpportunityResponse, CustomersError> {
        let partner = m.principal.require_partner(perm::OPPORTUNITIES_MANAGE)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (routing, office) = routing_of(tx, &o).await?;
                let opportunity = Opportunity {
                    id: format!("opp_{}", uuid::Uuid::now_v7().simple()),
                    partner_id: partner,
                    state: OpportunityState::Submitted,
                    customer_name: o.customer_name,
                    customer_email: o.customer_email,
                    country: o.country,
                    region: o.region,
                    description: o.description,
                    expected_amount: o.expected_amount,
                    routing,
                    office,
                    reason: None,
                    created_at: now,
                    updated_at: now,
                };
                store::insert(tx, &opportunity).await?;
                let change = Change::of(Some(partner), &opportunity.id)
                    .after(opportunity.audit_summary())
                    .announce("opportunity.routed");
                Ok(Outcome::new(
                    pb::SubmitOpportunityResponse {
                        opportunity: Some(opportunity.to_proto()),
                    },
                    change,
                ))
            })
        })
        .await
    }

    /// One opportunity: a partner its own, the operator any.
    pub async fn get_opportunity(
        &self,
        p: &Principal,
        id: &str,
    ) -> Result<Opportunity, CustomersError> {
        let conn = self.db().conn();
        let found = if p.is_operator() {
            p.require(perm::PLATFORM_OPPORTUNITIES_READ)?;
            store::platform_opportunity(conn, id, false).await?
        } else {
            let partner = p.require_partner(perm::OPPORTUNITIES_READ)?;
            store::opportunity_of(conn, partner, id, false).await?
        };
        found.ok_or(CustomersError::OpportunityNotFound)
    }

    /// A page of opportunities.
    pub async fn list_opportunities(
        &self,
        p: &Principal,
        state: Option<OpportunityState>,
        office: Option<String>,
        page: PageRequest,
    ) -> Result<Page<pb::Opportunity>, CustomersError> {
        let (scope, tenant) = if p.is_operator() {
            p.require(perm::PLATFORM_OPPORTUNITIES_READ)?;
            (
                Scope::Platform {
                    office: office.clone(),
                },
                "platform".to_owned(),
            )
        } else {
            let partner = p.require_partner(perm::OPPORTUNITIES_READ)?;
            if office.is_some() {
                return Err(CustomersError::Kernel(
                    partner_kernel::error::KernelError::MissingPermission(
                        perm::PLATFORM_OPPORTUNITIES_READ.id(),
                    ),
                ));
            }
            (Scope::Partner(partner), partner.to_string())
        };
        let page_scope = PageScope::new("ListOpportunities", &tenant)
            .filter("state", state.map_or("", OpportunityState::as_str))
            .filter("office", office.as_deref().unwrap_or(""));
        let after = self
            .pages()
            .decode(&page_scope, &page.token, self.clock().now())?;
        let rows = store::list(
            self.db().conn(),
            &scope,
            state,
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        let page = self.paginate(rows, page.size, &page_scope, |o| o.id.clone());
        Ok(Page {
            items: page.items.iter().map(Opportunity::to_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// Applies `verdict` to an opportunity: the operator accepts or
    /// rejects any; a partner marks its own won or lost.
    pub async fn decide_opportunity(
        &self,
        m: Mutation,
        id: String,
        verdict: Verdict,
        reason: Option<String>,
    ) -> Result<pb::GetOpportunityResponse, CustomersError> {
        let own = if verdict.by_operator() {
            m.principal.require(perm::PLATFORM_OPPORTUNITIES_MANAGE)?;
            None
        } else {
            Some(m.principal.require_partner(perm::OPPORTUNITIES_MANAGE)?)
        };
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = match own {
                    Some(partner) => store::opportunity_of(tx, partner, &id, true).await?,
                    None => store::platform_opportunity(tx, &id, true).await?,
                }
                .ok_or(CustomersError::OpportunityNotFound)?;
                let (from, to, event) = verdict.transition();
                if before.state != from {
                    return Err(CustomersError::OpportunityStateConflict {
                        state: before.state.as_str(),
                    });
                }
                store::set_state(tx, before.partner_id, &id, to, reason.clone(), now).await?;
                let after = Opportunity {
                    state: to,
                    reason: reason.clone(),
                    updated_at: now,
                    ..before.clone()
                };
                let change = Change::of(Some(before.partner_id), &id)
                    .reason(reason.unwrap_or_default())
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce(event);
                Ok(Outcome::new(
                    pb::GetOpportunityResponse {
                        opportunity: Some(after.to_proto()),
                    },
                    change,
                ))
            })
        })
        .await
    }

    /// Operator: sets a routing rule.
    pub async fn set_routing_rule(
        &self,
        m: Mutation,
        country: String,
        region: String,
        office: String,
    ) -> Result<pb::SetRoutingRuleResponse, CustomersError> {
        m.principal.require(perm::PLATFORM_OPPORTUNITIES_MANAGE)?;
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = store::route(tx, &country, &region)
                    .await?
                    .filter(|r| r.region == region);
                let rule = RoutingRule {
                    country,
                    region,
                    office,
                    updated_at: now,
                };
                store::upsert_rule(tx, &rule).await?;
                let mut change = Change::of(None, RoutingRule::key(&rule.country, &rule.region))
                    .after(serde_json::json!({ "office": rule.office }));
                if let Some(before) = before {
                    change = change.before(serde_json::json!({ "office": before.office }));
                }
                Ok(Outcome::new(
                    pb::SetRoutingRuleResponse {
                        rule: Some(rule.to_proto()),
                    },
                    change,
                ))
            })
        })
        .await
    }

    /// Operator: a page of the routing table.
    pub async fn list_routing_rules(
        &self,
        p: &Principal,
        page: PageRequest,
    ) -> Result<Page<pb::RoutingRule>, CustomersError> {
        p.require(perm::PLATFORM_OPPORTUNITIES_READ)?;
        let scope = PageScope::new("ListRoutingRules", "platform");
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows = store::list_rules(self.db().conn(), after.as_deref(), page.size + 1).await?;
        let page = self.paginate(rows, page.size, &scope, |r| {
            RoutingRule::key(&r.country, &r.region)
        });
        Ok(Page {
            items: page.items.iter().map(RoutingRule::to_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }
}
