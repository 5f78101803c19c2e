//! Exclusive offer links (`OfferLinkService`): a solution provider or a
//! distributor shares a link to a product, optionally with its own
//! discount; resolving the link (public) names the partner an order placed
//! through it is attributed to.

pub mod entity;
pub mod grpc;

use chrono::{DateTime, Utc};
use partner_accounts::partners::model::PartnerState;
use partner_accounts::programs::Program;
use partner_api::pricing::v1 as pb;
use partner_kernel::clock::{to_micros, to_proto_timestamp};
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{OfferLinkId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::access::{OFFER_LINKS_MANAGE, OFFER_LINKS_READ};
use crate::discounts::model::{self, Policy, Scope};
use crate::discounts::store as discount_store;
use crate::error::PricingError;
use crate::service::Pricing;

/// What a link offers, after parsing.
#[derive(Debug, Clone)]
pub struct Product {
    pub service_type: String,
    pub resource_type: String,
    pub spec: Option<String>,
    pub region: Option<String>,
}

/// A link to make.
#[derive(Debug)]
pub struct NewLink {
    pub name: String,
    pub product: Product,
    pub rate_off: Option<Decimal>,
    pub expire_time: Option<DateTime<Utc>>,
}

fn state(row: &entity::Model, now: DateTime<Utc>) -> pb::OfferLinkState {
    if row.disabled {
        pb::OfferLinkState::Disabled
    } else if row.expire_time.is_some_and(|e| e <= now) {
        pb::OfferLinkState::Expired
    } else {
        pb::OfferLinkState::Active
    }
}

fn product(row: &entity::Model) -> pb::OfferProduct {
    pb::OfferProduct {
        service_type: row.service_type.clone(),
        resource_type: row.resource_type.clone(),
        spec: row.spec.clone().unwrap_or_default(),
        region: row.region.clone().unwrap_or_default(),
    }
}

fn summary(row: &entity::Model) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "service_type": row.service_type,
        "resource_type": row.resource_type,
        "spec": row.spec,
        "region": row.region,
        "rate_off": row.rate_off,
        "expire_time": row.expire_time,
        "disabled": row.disabled,
    })
}

async fn owned(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: OfferLinkId,
) -> Result<entity::Model, PricingError> {
    entity::Entity::find_by_id(id.to_string())
        .filter(entity::Column::PartnerId.eq(partner.to_string()))
        .one(conn)
        .await?
        .ok_or(PricingError::OfferLinkNotFound)
}

impl Pricing {
    fn link_to_proto(&self, row: &entity::Model, now: DateTime<Utc>) -> pb::OfferLink {
        pb::OfferLink {
            id: row.id.clone(),
            partner_id: row.partner_id.clone(),
            token: row.token.clone(),
            url: format!("{}/offers/{}", self.offer_link_base(), row.token),
            name: row.name.clone(),
            product: Some(product(row)),
            rate_off: row.rate_off.clone().unwrap_or_default(),
            expire_time: row.expire_time.map(to_proto_timestamp),
            state: state(row, now) as i32,
            create_time: Some(to_proto_timestamp(row.created_at)),
        }
    }

    /// Refuses a product the catalog in force does not sell.
    fn check_product(&self, p: &Product) -> Result<(), PricingError> {
        let catalog = self.in_force()?;
        let bad = |field: &str, what: &str| {
            PricingError::Kernel(KernelError::Invalid(vec![FieldViolation::new(
                field,
                format!("no such {what} in the catalog"),
            )]))
        };
        if catalog
            .resource_type(&p.service_type, &p.resource_type)
            .is_none()
        {
            return Err(bad("product.resource_type", "service and resource type"));
        }
        if let Some(spec) = &p.spec
            && catalog
                .spec(&p.service_type, &p.resource_type, spec)
                .is_none()
        {
            return Err(bad("product.spec", "spec of that resource type"));
        }
        if let Some(region) = &p.region
            && catalog.zones_of(region).is_none()
        {
            return Err(bad("product.region", "region"));
        }
        Ok(())
    }

    /// A solution provider or distributor makes a link to a product.
    pub async fn create_offer_link(
        &self,
        m: Mutation,
        cmd: NewLink,
    ) -> Result<pb::CreateOfferLinkResponse, PricingError> {
        let partner = m.principal.require_partner(OFFER_LINKS_MANAGE)?;
        let record = self.partner_record(partner).await?;
        let may = record
            .programs
            .iter()
            .any(|e| matches!(e.program, Program::SolutionProvider | Program::Distributor));
        if !may {
            return Err(PricingError::ProgramRequired(
                "offer links are for solution providers and distributors",
            ));
        }
        self.check_product(&cmd.product)?;
        let now = m.now;
        let expire = cmd.expire_time.map(to_micros);
        if expire.is_some_and(|e| e <= now) {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "expire_time",
                "after now",
            )])
            .into());
        }
        let row = entity::Model {
            id: OfferLinkId::generate().to_string(),
            partner_id: partner.to_string(),
            token: partner_kernel::bearer::new_token("ofr_")?,
            name: cmd.name,
            service_type: cmd.product.service_type.clone(),
            resource_type: cmd.product.resource_type.clone(),
            spec: cmd.product.spec,
            region: cmd.product.region,
            rate_off: cmd.rate_off.map(|r| r.to_string()),
            expire_time: expire,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let link = self.link_to_proto(&row, now);
        let scope = Scope {
            service_type: Some(row.service_type.clone()),
            resource_type: Some(row.resource_type.clone()),
        };
        let rate_off = cmd.rate_off;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                if let Some(rate) = rate_off {
                    // The same allowance as a rate set for a customer.
                    let policies = discount_store::policies_of(tx, partner)
                        .await?
                        .iter()
                        .map(Policy::from_row)
                        .collect::<Result<Vec<_>, _>>()?;
                    let allowance = model::allowance(&policies, &scope, now);
                    if allowance.is_none_or(|a| rate > a) {
                        return Err(PricingError::AboveAllowance { allowance });
                    }
                }
                entity::Entity::insert(row.clone().into_active_model())
                    .exec_without_returning(tx)
                    .await?;
                let change = Change::of(Some(partner), &row.id).after(summary(&row));
                Ok(Outcome::new(
                    pb::CreateOfferLinkResponse { link: Some(link) },
                    change,
                ))
            })
        })
        .await
    }

    /// One of the caller's partner's links.
    pub async fn get_offer_link(
        &self,
        p: &Principal,
        id: OfferLinkId,
    ) -> Result<pb::OfferLink, PricingError> {
        let partner = p.require_partner(OFFER_LINKS_READ)?;
        let row = owned(self.db().conn(), partner, id).await?;
        Ok(self.link_to_proto(&row, self.clock().now()))
    }

    /// A page of the caller's partner's links, newest first.
    pub async fn list_offer_links(
        &self,
        p: &Principal,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::OfferLink>, PricingError> {
        let partner = p.require_partner(OFFER_LINKS_READ)?;
        let scope = PageScope::new("ListOfferLinks", &partner.to_string());
        let query =
            entity::Entity::find().filter(entity::Column::PartnerId.eq(partner.to_string()));
        let page = self
            .newest_first(
                query,
                entity::Column::Id,
                |r| r.id.clone(),
                &scope,
                token,
                size,
            )
            .await?;
        let now = self.clock().now();
        Ok(Page {
            items: page
                .items
                .iter()
                .map(|r| self.link_to_proto(r, now))
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// Stops a link of the caller's partner.
    pub async fn disable_offer_link(
        &self,
        m: Mutation,
        id: OfferLinkId,
    ) -> Result<pb::DisableOfferLinkResponse, PricingError> {
        let partner = m.principal.require_partner(OFFER_LINKS_MANAGE)?;
        let now = m.now;
        let this = self.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = owned(tx, partner, id).await?;
                let mut after = before.clone();
                after.disabled = true;
                after.updated_at = now;
                entity::Entity::update(after.clone().into_active_model().reset_all())
                    .exec(tx)
                    .await?;
                let change = Change::of(Some(partner), &after.id)
                    .before(summary(&before))
                    .after(summary(&after));
                Ok::<_, PricingError>(Outcome::new(
                    pb::DisableOfferLinkResponse {
                        link: Some(this.link_to_proto(&after, now)),
                    },
                    change,
                ))
            })
        })
        .await
    }

    /// Public: what a link offers and whose it is.
    pub async fn resolve_offer_link(
        &self,
        token: &str,
    ) -> Result<pb::ResolveOfferLinkResponse, PricingError> {
        let row = entity::Entity::find()
            .filter(entity::Column::Token.eq(token))
            .one(self.db().conn())
            .await?
            .ok_or(PricingError::OfferLinkNotFound)?;
        match state(&row, self.clock().now()) {
            pb::OfferLinkState::Active => {}
            pb::OfferLinkState::Expired => return Err(PricingError::OfferLinkExpired),
            pb::OfferLinkState::Disabled | pb::OfferLinkState::Unspecified => {
                return Err(PricingError::OfferLinkNotFound);
            }
        }
        let partner = PartnerId::parse(&row.partner_id)
            .map_err(|_| KernelError::Corrupt("offer link partner".into()))?;
        let record = self.partner_record(partner).await?;
        // A suspended or closed partner's links attribute nothing.
        if record.state != PartnerState::Active {
            return Err(PricingError::OfferLinkNotFound);
        }
        Ok(pb::ResolveOfferLinkResponse {
            partner_id: row.partner_id.clone(),
            partner_name: record.display_name,
            product: Some(product(&row)),
            rate_off: row.rate_off.clone().unwrap_or_default(),
            expire_time: row.expire_time.map(to_proto_timestamp),
            name: row.name.clone(),
        })
    }
}
