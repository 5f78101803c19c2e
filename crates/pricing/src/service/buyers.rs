//! Many buyers' discounts read at once: a usage batch names up to a
//! thousand customers, and reading each one's partner, distributor,
//! discounts and policies alone would be four statements per customer.
//! Here they are a few statements per chunk of customers, and land in the
//! same cache [`Pricing::offered`] reads.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use partner_customers::entity::customer;
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{Buyer, Offered, Pricing, USAGE_LOOKBACK, history_of};
use crate::discounts::model::{Discount, Kind, Policy};
use crate::discounts::store;
use crate::error::PricingError;

/// Customers per statement (bind parameters are limited).
const CHUNK: usize = 500;

impl Pricing {
    /// Reads into the cache what rating needs of each of `customers` whose
    /// discounts are not cached yet; unknown customers are left to
    /// [`Pricing::offered`] (they have none).
    pub async fn prime_offers(&self, customers: &[CustomerId]) -> Result<(), PricingError> {
        let mut missing = Vec::new();
        for c in customers.iter().collect::<BTreeSet<_>>() {
            if let Err(ticket) = self.offered.lookup(&Some(*c)) {
                missing.push((*c, ticket));
            }
        }
        // One alone is read the usual way.
        if missing.len() < 2 {
            return Ok(());
        }
        let mut distributors: HashMap<PartnerId, Option<PartnerId>> = HashMap::new();
        for chunk in missing.chunks(CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|(c, _)| c.to_string()).collect();
            let rows: Vec<(String, Option<String>)> = customer::Entity::find()
                .select_only()
                .column(customer::Column::Id)
                .column(customer::Column::PartnerId)
                .filter(customer::Column::Id.is_in(ids.clone()))
                .into_tuple()
                .all(self.db.conn())
                .await?;
            let mut buyers: HashMap<CustomerId, Buyer> = HashMap::new();
            for (id, partner) in rows {
                let customer = parse_stored(&id, CustomerId::parse)?;
                let partner = partner
                    .map(|p| parse_stored(&p, PartnerId::parse))
                    .transpose()?;
                let distributor = match partner {
                    Some(p) => match distributors.get(&p) {
                        Some(d) => *d,
                        None => {
                            let d = self.accounts.distributor_of(p).await?;
                            distributors.insert(p, d);
                            d
                        }
                    },
                    None => None,
                };
                buyers.insert(
                    customer,
                    Buyer {
                        customer,
                        partner,
                        distributor,
                    },
                );
            }
            let partners: BTreeSet<String> = buyers
                .values()
                .flat_map(|b| [b.partner, b.distributor])
                .flatten()
                .map(|p| p.to_string())
                .collect();
            let partners: Vec<String> = partners.into_iter().collect();
            let at = self.clock.now() - USAGE_LOOKBACK;
            let discounts = store::not_ended(self.db.conn(), &ids, &partners, at)
                .await?
                .iter()
                .map(Discount::from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let earlier = Arc::new(history_of(&self.db, &discounts).await?);
            let policies = store::policies_of_many(self.db.conn(), &partners)
                .await?
                .iter()
                .map(Policy::from_row)
                .collect::<Result<Vec<_>, _>>()?;
            for (c, ticket) in chunk {
                let Some(buyer) = buyers.remove(c) else {
                    continue;
                };
                let offered = Offered {
                    discounts: Arc::new(of_buyer(&discounts, &buyer)),
                    policies: Arc::new(
                        policies
                            .iter()
                            .filter(|p| {
                                buyer.partner.is_some_and(|b| b.to_string() == p.partner_id)
                            })
                            .cloned()
                            .collect(),
                    ),
                    buyer: Some(buyer),
                    earlier: earlier.clone(),
                };
                self.offered.put(*ticket, Some(*c), offered);
            }
        }
        Ok(())
    }
}

/// Of the discounts read for many buyers, those [`store::not_ended`] would
/// have read for `buyer` alone: promotions, its own, and distributor
/// contracts with its partner or that partner's distributor; in id order.
fn of_buyer(discounts: &[Discount], buyer: &Buyer) -> Vec<Discount> {
    let theirs = [buyer.partner, buyer.distributor];
    discounts
        .iter()
        .filter(|d| match d.kind {
            Kind::Promotion => true,
            Kind::DistributorContract => {
                d.customer_id == Some(buyer.customer)
                    || (d.partner_id.is_some() && theirs.contains(&d.partner_id))
            }
            Kind::VendorContract | Kind::PartnerSet => d.customer_id == Some(buyer.customer),
        })
        .cloned()
        .collect()
}
