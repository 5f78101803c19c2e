//! Quotes (`QuoteService`): a rating for a customer frozen with its chosen
//! discount until it expires; orders made from a quote keep its prices.

pub mod entity;
pub mod grpc;

use chrono::{DateTime, Duration, Utc};
use partner_api::pricing::v1 as pb;
use partner_kernel::clock::{to_micros, to_proto_timestamp};
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{CustomerId, DiscountId, PartnerId, QuoteId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use prost::Message;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

use crate::access::{QUOTES_CREATE, QUOTES_READ, SELF_QUOTES_READ};
use crate::error::PricingError;
use crate::rating::grpc::period_response;
use crate::rating::{Line, Purpose};
use crate::service::Pricing;

/// How long a quote lasts unless asked otherwise.
pub const DEFAULT_LIFETIME_DAYS: i64 = 7;
/// The longest a quote may last.
pub const MAX_LIFETIME_DAYS: i64 = 30;

/// A quote to make, after parsing.
#[derive(Debug)]
pub struct NewQuote {
    pub customer: CustomerId,
    /// The wire lines, kept as asked.
    pub wire_lines: Vec<pb::PeriodProductLine>,
    pub lines: Vec<Line>,
    pub auto_pay: bool,
    pub discount: Option<DiscountId>,
    pub expire_time: Option<DateTime<Utc>>,
}

/// `quote` with its state at `now`.
fn as_of(mut quote: pb::Quote, expire: DateTime<Utc>, now: DateTime<Utc>) -> pb::Quote {
    quote.state = if now < expire {
        pb::QuoteState::Active
    } else {
        pb::QuoteState::Expired
    } as i32;
    quote
}

fn decode(row: &entity::Model, now: DateTime<Utc>) -> Result<pb::Quote, KernelError> {
    let quote = pb::Quote::decode(row.body.as_slice())
        .map_err(|e| KernelError::Corrupt(format!("stored quote {}: {e}", row.id)))?;
    Ok(as_of(quote, row.expire_time, now))
}

/// Whose quotes a caller reads.
enum Reader {
    Partner(PartnerId),
    Customer(CustomerId),
}

fn reader(p: &Principal) -> Result<Reader, PricingError> {
    if let Some(own) = p.customer_id()
        && p.holds(&SELF_QUOTES_READ)
    {
        return Ok(Reader::Customer(own));
    }
    Ok(Reader::Partner(p.require_partner(QUOTES_READ)?))
}

impl Pricing {
    /// Rates the lines for one of the caller's customers and freezes the
    /// result with the chosen discount.
    pub async fn create_quote(
        &self,
        m: Mutation,
        cmd: NewQuote,
    ) -> Result<pb::CreateQuoteResponse, PricingError> {
        let partner = m.principal.require_partner(QUOTES_CREATE)?;
        // A replay answers as the first call did, whatever changed since.
        if let Some(stored) = write::replayed(self.db(), &m).await? {
            return Ok(stored);
        }
        let now = m.now;
        let expire = to_micros(
            cmd.expire_time
                .unwrap_or(now + Duration::days(DEFAULT_LIFETIME_DAYS)),
        );
        if expire <= now || expire > now + Duration::days(MAX_LIFETIME_DAYS) {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "expire_time",
                format!("after now and at most {MAX_LIFETIME_DAYS} days ahead"),
            )])
            .into());
        }
        let rating = self
            .rate_period_for(
                &m.principal,
                &cmd.lines,
                Some(cmd.customer),
                Purpose::Purchase,
                None,
            )
            .await?;
        let rating = period_response(rating, &cmd.lines, cmd.auto_pay).map_err(|_| {
            KernelError::Invalid(vec![FieldViolation::new("lines", "the total is too large")])
        })?;
        let chosen = match cmd.discount {
            Some(id) => Some(
                rating
                    .discount_results
                    .iter()
                    .find(|d| d.discount_id == id.to_string())
                    .ok_or(PricingError::DiscountNotFound)?,
            ),
            None => rating.discount_results.iter().find(|d| d.best_offer),
        };
        let list_total = rating.list_total.clone();
        let (discount_id, discount_total, final_total) = match chosen {
            Some(d) => (
                d.discount_id.clone(),
                d.discount_total.clone(),
                d.final_total.clone(),
            ),
            None => (
                String::new(),
                list_total.clone().map(|mut m| {
                    (m.units, m.nanos) = (0, 0);
                    m
                }),
                list_total.clone(),
            ),
        };
        let id = QuoteId::generate().to_string();
        let quote = pb::Quote {
            id: id.clone(),
            partner_id: partner.to_string(),
            customer_id: cmd.customer.to_string(),
            created_by: m.principal.actor_id(),
            lines: cmd.wire_lines,
            catalog_version: rating.catalog_version,
            rating: Some(rating),
            discount_id,
            list_total,
            discount_total,
            final_total,
            state: pb::QuoteState::Active as i32,
            create_time: Some(to_proto_timestamp(now)),
            expire_time: Some(to_proto_timestamp(expire)),
        };
        let row = entity::Model {
            id: id.clone(),
            partner_id: partner.to_string(),
            customer_id: cmd.customer.to_string(),
            body: quote.encode_to_vec(),
            expire_time: expire,
            created_at: now,
        };
        let summary = serde_json::json!({
            "customer_id": quote.customer_id,
            "discount_id": quote.discount_id,
            "catalog_version": quote.catalog_version,
            "final_total": quote.final_total.as_ref().map(|m| format!("{} {}.{:09}", m.currency_code, m.units, m.nanos)),
            "expire_time": expire,
        });
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                entity::Entity::insert(row.into_active_model())
                    .exec_without_returning(tx)
                    .await
                    .map_err(KernelError::from)?;
                let change = Change::of(Some(partner), &id).after(summary);
                Ok::<_, PricingError>(Outcome::new(
                    pb::CreateQuoteResponse { quote: Some(quote) },
                    change,
                ))
            })
        })
        .await
    }

    /// One quote of the caller's partner (a customer: one made for it).
    pub async fn get_quote(&self, p: &Principal, id: QuoteId) -> Result<pb::Quote, PricingError> {
        let mut q = entity::Entity::find_by_id(id.to_string());
        q = match reader(p)? {
            Reader::Partner(own) => q.filter(entity::Column::PartnerId.eq(own.to_string())),
            Reader::Customer(own) => q.filter(entity::Column::CustomerId.eq(own.to_string())),
        };
        let row = q
            .one(self.db().conn())
            .await?
            .ok_or(PricingError::QuoteNotFound)?;
        Ok(decode(&row, self.clock().now())?)
    }

    /// A page of the caller's quotes, newest first.
    pub async fn list_quotes(
        &self,
        p: &Principal,
        customer: Option<CustomerId>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Quote>, PricingError> {
        let mut q = entity::Entity::find();
        let tenant = match reader(p)? {
            Reader::Partner(own) => {
                q = q.filter(entity::Column::PartnerId.eq(own.to_string()));
                own.to_string()
            }
            Reader::Customer(own) => {
                q = q.filter(entity::Column::CustomerId.eq(own.to_string()));
                own.to_string()
            }
        };
        if let Some(c) = customer {
            q = q.filter(entity::Column::CustomerId.eq(c.to_string()));
        }
        let scope = PageScope::new("ListQuotes", &tenant).filter(
            "customer",
            customer.map(|c| c.to_string()).unwrap_or_default(),
        );
        let page = self
            .newest_first(q, entity::Column::Id, |r| r.id.clone(), &scope, token, size)
            .await?;
        let now = self.clock().now();
        Ok(page.try_map(|row| decode(&row, now))?)
    }
}
