//! Reporting usage: a batch's records checked one by one (a bad record is
//! refused alone, with its reason), rated at the list prices of the
//! catalog in force when each was used, and stored in one write
//! transaction. A record id is taken once: inserting it does nothing when
//! it is there, and then the stored record answers — DUPLICATE when its
//! content is the same, `RECORD_ID_REUSED` when not. So a retried batch,
//! whole or in part, at once or later, counts nothing twice and loses
//! nothing.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Utc};
use partner_api::billing::v1 as pb;
use partner_customers::customers::store as customer_store;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, ResourceId};
use partner_kernel::mutation::Mutation;
use partner_kernel::time::from_proto_timestamp;
use partner_kernel::write::{self, Change, Outcome};
use partner_pricing::error::PricingError;
use partner_pricing::rating::on_demand::{UsageLine, usage_value};
use partner_pricing::service::RatedAt;
use prost::Message;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::entity as record;
use crate::error::BillingError;
use crate::orders::entity::resource;
use crate::service::Billing;

/// At most this many records per batch.
pub const MAX_RECORDS: usize = 1_000;
/// How far past the platform's now a usage period may end (clocks differ).
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    reason: &'static str,
    field: String,
    description: String,
}

impl Refusal {
    fn because(reason: &'static str) -> Self {
        Self {
            reason,
            field: String::new(),
            description: String::new(),
        }
    }

    fn field(field: &str, description: impl Into<String>) -> Self {
        Self {
            reason: "FIELD_VIOLATION",
            field: field.to_owned(),
            description: description.into(),
        }
    }
}

/// A record whose fields hold, rated.
struct Rated {
    customer: CustomerId,
    resource: Option<ResourceId>,
    line: UsageLine,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    rated: RatedAt,
    fingerprint: Vec<u8>,
}

/// When the billing cycle open at `now` began: the first of the month, at
/// midnight in the billing time zone.
pub fn cycle_start(now: DateTime<Utc>, zone: FixedOffset) -> DateTime<Utc> {
    let local = now.with_timezone(&zone);
    zone.with_ymd_and_hms(local.year(), local.month(), 1, 0, 0, 0)
        .single()
        .map_or(now, |d| d.with_timezone(&Utc))
}

fn record_id_ok(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

fn name(field: &str, raw: &str) -> Result<String, Refusal> {
    if raw.is_empty() || raw.len() > 64 {
        return Err(Refusal::field(field, "1 to 64 characters"));
    }
    Ok(raw.to_owned())
}

fn time(field: &str, t: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>, Refusal> {
    let t = t.ok_or_else(|| Refusal::field(field, "required"))?;
    from_proto_timestamp(t).map_err(|e| Refusal::field(field, e))
}

/// A refusal for what rating said of a record.
fn rating_refusal(e: PricingError) -> Result<Refusal, BillingError> {
    if matches!(
        e,
        PricingError::ProductNotFound { .. } | PricingError::NoCatalog
    ) {
        return Ok(Refusal::because("PRODUCT_NOT_FOUND"));
    }
    if let PricingError::Kernel(KernelError::Invalid(violations)) = &e {
        return Ok(violations
            .first()
            .map_or(Refusal::because("FIELD_VIOLATION"), |v| {
                // The line's fields are the record's.
                let field = v.field.rsplit('.').next().unwrap_or_default();
                Refusal::field(field, v.description.clone())
            }));
    }
    Err(e.into())
}

impl Billing {
    /// Checks and rates one record (no database read: rating uses the
    /// catalogs in memory).
    fn rate_record(
        &self,
        r: &pb::UsageRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<Rated, Refusal>, BillingError> {
        let parsed = (|| {
            if !record_id_ok(&r.record_id) {
                return Err(Refusal::field(
                    "record_id",
                    "1 to 64 letters, digits, '-', '_', '.' or ':'",
                ));
            }
            let customer = CustomerId::parse(&r.customer_id)
                .map_err(|e| Refusal::field("customer_id", e.to_string()))?;
            let resource = (!r.resource_id.is_empty())
                .then(|| ResourceId::parse(&r.resource_id))
                .transpose()
                .map_err(|e| Refusal::field("resource_id", e.to_string()))?;
            let starts = time("start_time", r.start_time.as_ref())?;
            let ends = time("end_time", r.end_time.as_ref())?;
            if starts >= ends {
                return Err(Refusal::field("end_time", "after start_time"));
            }
            if ends > now + CLOCK_SKEW {
                return Err(Refusal::field("end_time", "not in the future"));
            }
            if ends <= cycle_start(now, self.billing_zone()) {
                return Err(Refusal::because("CYCLE_CLOSED"));
            }
            if r.size < 0 {
                return Err(Refusal::field("size", "0 or more"));
            }
            let line = UsageLine {
                line_id: r.record_id.clone(),
                service_type: name("service_type", &r.service_type)?,
                resource_type: name("resource_type", &r.resource_type)?,
                spec: name("spec", &r.spec)?,
                region: name("region", &r.region)?,
                zone: if r.zone.len() > 64 {
                    return Err(Refusal::field("zone", "at most 64 characters"));
                } else {
                    r.zone.clone()
                },
                size: r.size,
                usage_factor: name("usage_factor", &r.usage_factor)?,
                usage_value: usage_value(&r.usage_value)
                    .map_err(|e| Refusal::field("usage_value", e))?,
                usage_unit: name("usage_unit", &r.usage_unit)?,
                quantity: 1,
            };
            Ok((customer, resource, line, starts, ends))
        })();
        let (customer, resource, line, starts, ends) = match parsed {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let rated = match self.pricing().rate_usage_at(&line, starts) {
            Ok(rated) => rated,
            Err(e) => return rating_refusal(e).map(Err),
        };
        Ok(Ok(Rated {
            customer,
            resource,
            line,
            starts,
            ends,
            rated,
            fingerprint: Sha256::digest(r.encode_to_vec()).to_vec(),
        }))
    }

    /// Stores and rates a batch of usage records (at most [`MAX_RECORDS`],
    /// with distinct ids): a result per record, in the order given.
    pub async fn report_usage(
        &self,
        m: Mutation,
        records: Vec<pb::UsageRecord>,
    ) -> Result<pb::ReportUsageResponse, BillingError> {
        m.principal.require(crate::access::PLATFORM_USAGE_REPORT)?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let now = m.now;
        let checked = records
            .iter()
            .map(|r| self.rate_record(r, now))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = records.iter().map(|r| r.record_id.clone()).collect();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let mut results = Vec::with_capacity(checked.len());
                let mut partners: HashMap<CustomerId, Option<Option<String>>> = HashMap::new();
                for (id, c) in ids.into_iter().zip(checked) {
                    let result = match c {
                        Ok(rated) => store(tx, &mut partners, &id, rated, now).await?,
                        Err(refusal) => refused(&id, refusal),
                    };
                    results.push(result);
                }
                let count = |s: pb::UsageRecordStatus| {
                    let n = results.iter().filter(|r| r.status == s as i32).count();
                    i32::try_from(n).unwrap_or(i32::MAX)
                };
                let answer = pb::ReportUsageResponse {
                    accepted: count(pb::UsageRecordStatus::Accepted),
                    duplicates: count(pb::UsageRecordStatus::Duplicate),
                    rejected: count(pb::UsageRecordStatus::Rejected),
                    results,
                };
                let summary = serde_json::json!({
                    "accepted": answer.accepted,
                    "duplicates": answer.duplicates,
                    "rejected": answer.rejected,
                });
                // A batch that stored nothing changed nothing.
                let changes = if answer.accepted > 0 {
                    vec![Change::of(None, "usage").after(summary)]
                } else {
                    Vec::new()
                };
                Ok::<_, BillingError>(Outcome::batch(answer, changes))
            })
        })
        .await
    }
}

fn refused(id: &str, r: Refusal) -> pb::UsageRecordResult {
    pb::UsageRecordResult {
        record_id: id.to_owned(),
        status: pb::UsageRecordStatus::Rejected as i32,
        reason: r.reason.to_owned(),
        field: r.field,
        description: r.description,
        ..Default::default()
    }
}

fn rated_result(row: &record::Model, status: pb::UsageRecordStatus) -> pb::UsageRecordResult {
    pb::UsageRecordResult {
        record_id: row.record_id.clone(),
        status: status as i32,
        list_amount: row.list_amount.clone(),
        currency: row.currency.clone(),
        catalog_version: row.catalog_version,
        ..Default::default()
    }
}

/// Stores one rated record unless its id is taken; its result.
async fn store(
    tx: &DatabaseTransaction,
    partners: &mut HashMap<CustomerId, Option<Option<String>>>,
    id: &str,
    r: Rated,
    now: DateTime<Utc>,
) -> Result<pb::UsageRecordResult, BillingError> {
    // The customer's partner now (`None` for an unknown customer).
    let partner = match partners.get(&r.customer) {
        Some(p) => p.clone(),
        None => {
            let found = customer_store::platform_customer(tx, r.customer)
                .await?
                .map(|c| c.partner_id.map(|p| p.to_string()));
            partners.insert(r.customer, found.clone());
            found
        }
    };
    let Some(partner) = partner else {
        return Ok(refused(id, Refusal::because("CUSTOMER_NOT_FOUND")));
    };
    let customer = r.customer.to_string();
    if let Some(resource) = r.resource {
        let found = resource::Entity::find_by_id(resource.to_string())
            .filter(resource::Column::CustomerId.eq(customer.as_str()))
            .one(tx)
            .await?;
        if found.is_none() {
            return Ok(refused(id, Refusal::because("RESOURCE_NOT_FOUND")));
        }
    }
    let l = &r.line;
    let row = record::Model {
        record_id: id.to_owned(),
        fingerprint: r.fingerprint.clone(),
        partner_id: partner,
        customer_id: customer,
        resource_id: r.resource.map(|x| x.to_string()),
        service_type: l.service_type.clone(),
        resource_type: l.resource_type.clone(),
        spec: l.spec.clone(),
        region: l.region.clone(),
        zone: l.zone.clone(),
        size: l.size,
        usage_factor: l.usage_factor.clone(),
        usage_value: l.usage_value.to_string(),
        usage_unit: l.usage_unit.clone(),
        starts_at: r.starts,
        ends_at: r.ends,
        list_amount: r.rated.line.list_amount.normalize().to_string(),
        currency: r.rated.currency.code().to_owned(),
        catalog_version: r.rated.catalog_version,
        reported_at: now,
    };
    let active: record::ActiveModel = row.clone().into();
    let inserted = record::Entity::insert(active)
        .on_conflict(
            OnConflict::column(record::Column::RecordId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    if inserted == 1 {
        return Ok(rated_result(&row, pb::UsageRecordStatus::Accepted));
    }
    // Taken: by this record sent before, or by another.
    let stored = record::Entity::find_by_id(id.to_owned())
        .one(tx)
        .await?
        .ok_or_else(|| KernelError::Corrupt(format!("usage record {id} taken and gone")))?;
    if stored.fingerprint == r.fingerprint {
        Ok(rated_result(&stored, pb::UsageRecordStatus::Duplicate))
    } else {
        Ok(refused(id, Refusal::because("RECORD_ID_REUSED")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_open_cycle_starts_on_the_first_at_midnight_in_the_billing_zone() {
        let zone = FixedOffset::east_opt(8 * 3600).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc));
        // 2027-03-31T17:00Z is April 1st 01:00 in UTC+8: April's cycle.
        assert_eq!(
            at("2027-03-31T17:00:00Z").map(|now| cycle_start(now, zone)),
            at("2027-03-31T16:00:00Z")
        );
        // 2027-03-31T15:00Z is still March 31st in UTC+8.
        assert_eq!(
            at("2027-03-31T15:00:00Z").map(|now| cycle_start(now, zone)),
            at("2027-02-28T16:00:00Z")
        );
    }

    #[test]
    fn record_ids_are_short_plain_names() {
        assert!(record_id_ok("obs-2027-03:bucket.a_1"));
        assert!(!record_id_ok(""));
        assert!(!record_id_ok(&"x".repeat(65)));
        assert!(!record_id_ok("a b"));
        assert!(!record_id_ok("é"));
    }
}
