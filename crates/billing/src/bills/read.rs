//! Reading bills: a customer its own fee records; a partner those it
//! charged its customers, a distributor also its resellers' (or one
//! reseller's, with `reseller_id`). Summaries are sums in the database.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use partner_accounts::entity::reseller_link;
use partner_api::billing::v1 as pb;
use partner_customers::customers::store as customer_store;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entity as fee;
use super::model::{BillType, LATE_USAGE_GRACE};
use crate::access::{BILLS_READ, SELF_BILLS_READ};
use crate::error::BillingError;
use crate::orders::model::ChargingMode;
use crate::service::Billing;
use crate::usage::entity as record;

const LIST_FEES: &str = "partner.billing.v1.BillService/ListFeeRecords";
const LIST_USAGE: &str = "partner.billing.v1.BillService/ListUsageDetails";

/// A billing cycle: `YYYY-MM` and when it begins and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Cycle {
    /// The cycle `raw` (`YYYY-MM`, years 2000–9999) in the billing time zone.
    pub fn parse(raw: &str, zone: FixedOffset) -> Option<Self> {
        let (y, m) = raw.split_once('-')?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if y.len() != 4 || m.len() != 2 || !digits(y) || !digits(m) {
            return None;
        }
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        if !(2000..=9999).contains(&y) {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(y, m, 1)?;
        let next = first.checked_add_months(chrono::Months::new(1))?;
        let at = |d: NaiveDate| {
            zone.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
                .single()
                .map(|t| t.with_timezone(&Utc))
        };
        Some(Self {
            name: raw.to_owned(),
            start: at(first)?,
            end: at(next)?,
        })
    }
}

/// Whose fee records a caller reaches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BillScope {
    Customer(CustomerId),
    /// A partner's; with its resellers' when `resellers`.
    Partner {
        partner: PartnerId,
        resellers: bool,
    },
}

impl BillScope {
    fn key(self) -> String {
        match self {
            BillScope::Customer(c) => c.to_string(),
            BillScope::Partner { partner, resellers } => format!("{partner}/{resellers}"),
        }
    }

    /// The rows of `partner_col`/`customer_col` the scope reaches.
    fn condition(self, customer_col: impl ColumnTrait, partner_col: impl ColumnTrait) -> Condition {
        match self {
            BillScope::Customer(c) => Condition::all().add(customer_col.eq(c.to_string())),
            BillScope::Partner { partner, resellers } => {
                let mine = Condition::any().add(partner_col.eq(partner.to_string()));
                if !resellers {
                    return mine;
                }
                let theirs = Query::select()
                    .column(reseller_link::Column::ResellerId)
                    .from(reseller_link::Entity)
                    .and_where(reseller_link::Column::DistributorId.eq(partner.to_string()))
                    // A suspended or ended link reaches nothing (decision 36).
                    .and_where(reseller_link::Column::State.eq("ACTIVE"))
                    .to_owned();
                mine.add(partner_col.in_subquery(theirs))
            }
        }
    }

    pub(crate) fn fees(self) -> Condition {
        self.condition(fee::Column::CustomerId, fee::Column::PartnerId)
    }

    fn usage(self) -> Condition {
        self.condition(record::Column::CustomerId, record::Column::PartnerId)
    }
}

/// A bill line as summed in the database.
#[derive(Debug, FromQueryResult)]
struct Summed {
    service_type: String,
    charge_mode: String,
    bill_type: String,
    currency: String,
    list_minor: i64,
    discount_minor: i64,
    amount_minor: i64,
    fee_records: i64,
}

fn money(currency: &str, minor: i64) -> Result<Money, KernelError> {
    Currency::parse(currency)
        .map(|c| Money::from_minor(c, minor))
        .map_err(|e| KernelError::Corrupt(format!("fee record currency: {e}")))
}

/// A whole-cycle sum, cast so both databases answer an integer.
pub(crate) fn sum(col: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({col}), 0) AS BIGINT)"))
}

impl Billing {
    /// Whose bills `p` reads, acting for `reseller` when given.
    pub(crate) async fn bill_scope(
        &self,
        p: &Principal,
        reseller: Option<PartnerId>,
    ) -> Result<BillScope, BillingError> {
        if let Some(own) = p.customer_id() {
            p.require(SELF_BILLS_READ)?;
            if reseller.is_some() {
                return Err(BillingError::CustomerNotFound);
            }
            return Ok(BillScope::Customer(own));
        }
        let tenant = self
            .accounts()
            .resolve_tenant(p, BILLS_READ, reseller)
            .await?;
        Ok(BillScope::Partner {
            partner: tenant.partner_id,
            resellers: reseller.is_none(),
        })
    }

    /// `scope` narrowed to the customer `named` (a customer: only itself);
    /// `CUSTOMER_NOT_FOUND` for a customer the partner neither has now nor
    /// billed.
    pub(crate) async fn narrowed(
        &self,
        scope: BillScope,
        named: Option<CustomerId>,
    ) -> Result<Option<CustomerId>, BillingError> {
        let Some(id) = named else {
            return Ok(None);
        };
        match scope {
            BillScope::Customer(own) if own == id => Ok(Some(id)),
            BillScope::Customer(_) => Err(BillingError::CustomerNotFound),
            BillScope::Partner { partner, .. } => {
                let conn = self.db().conn();
                if customer_store::customer_of(conn, partner, id)
                    .await?
                    .is_some()
                {
                    return Ok(Some(id));
                }
                let billed = fee::Entity::find()
                    .filter(scope.fees())
                    .filter(fee::Column::CustomerId.eq(id.to_string()))
                    .count(conn)
                    .await?;
                if billed > 0 {
                    Ok(Some(id))
                } else {
                    Err(BillingError::CustomerNotFound)
                }
            }
        }
    }

    /// The bill of `cycle` over what `scope` reaches (one customer's when
    /// `customer`), and how many customers it covers.
    pub(crate) async fn bill(
        &self,
        scope: BillScope,
        customer: Option<CustomerId>,
        cycle: &Cycle,
    ) -> Result<(pb::Bill, i64), BillingError> {
        let conn = self.db().conn();
        let mut of = Condition::all()
            .add(scope.fees())
            .add(fee::Column::Cycle.eq(cycle.name.as_str()));
        if let Some(c) = customer {
            of = of.add(fee::Column::CustomerId.eq(c.to_string()));
        }
        let rows = fee::Entity::find()
            .select_only()
            .column(fee::Column::ServiceType)
            .column(fee::Column::ChargeMode)
            .column(fee::Column::BillType)
            .column(fee::Column::Currency)
            .column_as(sum("list_minor"), "list_minor")
            .column_as(sum("discount_minor"), "discount_minor")
            .column_as(sum("amount_minor"), "amount_minor")
            .column_as(Expr::cust("COUNT(*)"), "fee_records")
            .filter(of.clone())
            .group_by(fee::Column::ServiceType)
            .group_by(fee::Column::ChargeMode)
            .group_by(fee::Column::BillType)
            .group_by(fee::Column::Currency)
            .order_by_asc(fee::Column::ServiceType)
            .order_by_asc(fee::Column::ChargeMode)
            .order_by_asc(fee::Column::BillType)
            .order_by_asc(fee::Column::Currency)
            .into_model::<Summed>()
            .all(conn)
            .await?;
        let customers: i64 = fee::Entity::find()
            .select_only()
            .column_as(Expr::cust("COUNT(DISTINCT customer_id)"), "n")
            .filter(of)
            .into_tuple()
            .one(conn)
            .await?
            .unwrap_or(0);
        let mut lines = Vec::with_capacity(rows.len());
        let mut totals: Vec<(String, [i64; 3])> = Vec::new();
        for r in rows {
            lines.push(pb::BillLine {
                service_type: r.service_type.clone(),
                charge_mode: ChargingMode::parse(&r.charge_mode)?.to_proto() as i32,
                bill_type: BillType::parse(&r.bill_type)?.to_proto() as i32,
                list_amount: Some(money(&r.currency, r.list_minor)?.to_proto()),
                discount_amount: Some(money(&r.currency, r.discount_minor)?.to_proto()),
                amount: Some(money(&r.currency, r.amount_minor)?.to_proto()),
                fee_records: r.fee_records,
            });
            let i = match totals.iter().position(|(c, _)| *c == r.currency) {
                Some(i) => i,
                None => {
                    totals.push((r.currency.clone(), [0; 3]));
                    totals.len() - 1
                }
            };
            let t = &mut totals[i].1;
            for (sum, add) in t
                .iter_mut()
                .zip([r.list_minor, r.discount_minor, r.amount_minor])
            {
                *sum = sum.checked_add(add).ok_or(BillingError::BalanceLimit)?;
            }
        }
        totals.sort();
        let totals = totals
            .into_iter()
            .map(|(c, [list, discount, amount])| {
                Ok(pb::BillTotal {
                    list_amount: Some(money(&c, list)?.to_proto()),
                    discount_amount: Some(money(&c, discount)?.to_proto()),
                    amount: Some(money(&c, amount)?.to_proto()),
                })
            })
            .collect::<Result<Vec<_>, KernelError>>()?;
        let closed = self.closed(scope, customer, cycle).await?;
        Ok((
            pb::Bill {
                cycle: cycle.name.clone(),
                customer_id: customer.map(|c| c.to_string()).unwrap_or_default(),
                lines,
                totals,
                closed,
                start_time: Some(to_proto_timestamp(cycle.start)),
                end_time: Some(to_proto_timestamp(cycle.end)),
            },
            customers,
        ))
    }

    /// Whether `cycle` ended, its late-usage grace passed, and all its
    /// usage in `scope` is charged.
    async fn closed(
        &self,
        scope: BillScope,
        customer: Option<CustomerId>,
        cycle: &Cycle,
    ) -> Result<bool, BillingError> {
        if self.clock().now() < cycle.end + LATE_USAGE_GRACE {
            return Ok(false);
        }
        let mut q = record::Entity::find()
            .filter(scope.usage())
            .filter(record::Column::SettlementId.is_null())
            .filter(record::Column::EndsAt.gt(cycle.start))
            .filter(record::Column::EndsAt.lte(cycle.end));
        if let Some(c) = customer {
            q = q.filter(record::Column::CustomerId.eq(c.to_string()));
        }
        Ok(q.count(self.db().conn()).await? == 0)
    }

    /// A page of the fee records of `cycle` in `scope`, newest first.
    pub(crate) async fn list_fee_records(
        &self,
        scope: BillScope,
        filter: FeeFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::FeeRecord>, BillingError> {
        let mut page_scope = PageScope::new(LIST_FEES, &scope.key()).filter("cycle", &filter.cycle);
        let mut query = fee::Entity::find()
            .filter(scope.fees())
            .filter(fee::Column::Cycle.eq(filter.cycle.as_str()));
        if let Some(c) = filter.customer {
            query = query.filter(fee::Column::CustomerId.eq(c.to_string()));
            page_scope = page_scope.filter("customer", c);
        }
        if let Some(r) = filter.resource {
            query = query.filter(fee::Column::ResourceId.eq(r.to_string()));
            page_scope = page_scope.filter("resource", r);
        }
        if let Some(t) = filter.bill_type {
            query = query.filter(fee::Column::BillType.eq(t.as_str()));
            page_scope = page_scope.filter("type", t.as_str());
        }
        let page = self
            .page_by_id(query, fee::Column::Id, &page_scope, size, token, |f| {
                f.id.clone()
            })
            .await?;
        Ok(Page {
            items: page
                .items
                .iter()
                .map(fee_to_proto)
                .collect::<Result<_, _>>()?,
            next_page_token: page.next_page_token,
        })
    }

    /// A page of the usage records in `scope` that ended in `cycle`, by
    /// record id from the last.
    pub(crate) async fn list_usage_details(
        &self,
        scope: BillScope,
        (customer, resource): (Option<CustomerId>, Option<ResourceId>),
        cycle: &Cycle,
        (size, token): (u64, &str),
    ) -> Result<Page<pb::UsageDetail>, BillingError> {
        let mut page_scope = PageScope::new(LIST_USAGE, &scope.key()).filter("cycle", &cycle.name);
        let mut query = record::Entity::find()
            .filter(scope.usage())
            .filter(record::Column::EndsAt.gt(cycle.start))
            .filter(record::Column::EndsAt.lte(cycle.end));
        if let Some(c) = customer {
            query = query.filter(record::Column::CustomerId.eq(c.to_string()));
            page_scope = page_scope.filter("customer", c);
        }
        if let Some(r) = resource {
            query = query.filter(record::Column::ResourceId.eq(r.to_string()));
            page_scope = page_scope.filter("resource", r);
        }
        let page = self
            .page_by_id(
                query,
                record::Column::RecordId,
                &page_scope,
                size,
                token,
                |r| r.record_id.clone(),
            )
            .await?;
        Ok(Page {
            items: page.items.iter().map(usage_to_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }
}

/// Which fee records to list.
#[derive(Debug, Clone, Default)]
pub struct FeeFilter {
    pub cycle: String,
    pub customer: Option<CustomerId>,
    pub resource: Option<ResourceId>,
    pub bill_type: Option<BillType>,
}

pub(crate) fn fee_to_proto(f: &fee::Model) -> Result<pb::FeeRecord, KernelError> {
    Ok(pb::FeeRecord {
        id: f.id.clone(),
        cycle: f.cycle.clone(),
        customer_id: f.customer_id.clone(),
        partner_id: f.partner_id.clone().unwrap_or_default(),
        resource_id: f.resource_id.clone().unwrap_or_default(),
        service_type: f.service_type.clone(),
        resource_type: f.resource_type.clone(),
        spec: f.spec.clone(),
        region: f.region.clone(),
        charge_mode: ChargingMode::parse(&f.charge_mode)?.to_proto() as i32,
        bill_type: BillType::parse(&f.bill_type)?.to_proto() as i32,
        list_amount: Some(money(&f.currency, f.list_minor)?.to_proto()),
        discount_amount: Some(money(&f.currency, f.discount_minor)?.to_proto()),
        amount: Some(money(&f.currency, f.amount_minor)?.to_proto()),
        transaction_id: f.transaction_id.clone().unwrap_or_default(),
        source_id: f.source_id.clone(),
        usage_start_time: f.usage_start.map(to_proto_timestamp),
        usage_end_time: f.usage_end.map(to_proto_timestamp),
        create_time: Some(to_proto_timestamp(f.occurred_at)),
        adjusts_cycle: f.adjusts_cycle.clone().unwrap_or_default(),
        reason: f.reason.clone().unwrap_or_default(),
    })
}

fn usage_to_proto(r: &record::Model) -> pb::UsageDetail {
    pb::UsageDetail {
        record_id: r.record_id.clone(),
        customer_id: r.customer_id.clone(),
        resource_id: r.resource_id.clone().unwrap_or_default(),
        service_type: r.service_type.clone(),
        resource_type: r.resource_type.clone(),
        spec: r.spec.clone(),
        region: r.region.clone(),
        zone: r.zone.clone(),
        size: r.size,
        usage_factor: r.usage_factor.clone(),
        usage_value: r.usage_value.clone(),
        usage_unit: r.usage_unit.clone(),
        start_time: Some(to_proto_timestamp(r.starts_at)),
        end_time: Some(to_proto_timestamp(r.ends_at)),
        list_amount: r.list_amount.clone(),
        discount_amount: r.discount_amount.clone(),
        amount: r.amount.clone(),
        currency: r.currency.clone(),
        settlement_id: r.settlement_id.clone().unwrap_or_default(),
        report_time: Some(to_proto_timestamp(r.reported_at)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_is_a_month_in_the_billing_zone() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        let c = Cycle::parse("2027-02", utc8).unwrap();
        assert_eq!(
            c.start,
            Utc.with_ymd_and_hms(2027, 1, 31, 16, 0, 0).unwrap()
        );
        assert_eq!(c.end, Utc.with_ymd_and_hms(2027, 2, 28, 16, 0, 0).unwrap());
        let dec = Cycle::parse("2026-12", utc8).unwrap();
        assert_eq!(
            dec.end,
            Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap()
        );
        for bad in [
            "2027-13",
            "2027-2",
            "27-02",
            "2027/02",
            "",
            "1999-01",
            "２027-02",
            "2027-00",
            "2027-+1",
            "+202-01",
        ] {
            assert!(Cycle::parse(bad, utc8).is_none(), "{bad}");
        }
    }
}
