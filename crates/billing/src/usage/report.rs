//! Reporting usage: a batch's records checked one by one (a bad record is
//! refused alone, with its reason), rated at the list prices of the
//! catalog in force when each was used, and stored in one write
//! transaction. A record id is taken once: inserting it does nothing when
//! it is there, and then the stored record answers — DUPLICATE when its
//! content is the same, `RECORD_ID_REUSED` when not. So a retried batch,
//! whole or in part, at once or later, counts nothing twice and loses
//! nothing.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Utc};
use partner_api::billing::v1 as pb;
use partner_customers::entity::customer;
use partner_kernel::clock::to_micros;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, ResourceId, parse_stored};
use partner_kernel::mutation::Mutation;
use partner_kernel::time::from_proto_timestamp;
use partner_kernel::validate::Violations;
use partner_kernel::write::{self, Change, Outcome};
use partner_pricing::discounts::apply::usage_offers;
use partner_pricing::discounts::model::Discount;
use partner_pricing::error::PricingError;
use partner_pricing::rating::on_demand::{UsageLine, usage_value};
use partner_pricing::service::RatedAt;
use rust_decimal::Decimal;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};

use super::entity as record;
use crate::bills::fees::ROWS_PER_INSERT;
use crate::bills::model::LATE_USAGE_GRACE;
use crate::error::BillingError;
use crate::orders::entity::resource;
use crate::orders::model::ChargingMode;
use crate::service::Billing;

/// At most this many records per batch.
pub const MAX_RECORDS: usize = 1_000;
/// How far past the platform's now a usage period may end (clocks differ).
const CLOCK_SKEW: Duration = Duration::minutes(5);
/// The longest period one record meters.
const MAX_PERIOD: Duration = Duration::days(31);
/// Record ids looked up per statement.
const LOOKUP_CHUNK: usize = 500;
// On PostgreSQL each chunk runs under a savepoint: a batch must stay under
// the 64 subtransactions a backend caches, or every session's snapshots
// slow down.
const _: () = assert!(MAX_RECORDS.div_ceil(ROWS_PER_INSERT) < 64);

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

/// A record whose fields hold, with its content digest: the same content
/// (values compared as parsed: `2` and `2.0` are one value) has the same.
struct Parsed {
    customer: CustomerId,
    resource: Option<ResourceId>,
    line: UsageLine,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    fingerprint: Vec<u8>,
}

/// What the checks made of one record before the database is asked.
enum Checked {
    /// Its id is malformed: nothing can be stored or found under it.
    BadId(Refusal),
    /// Its id holds; its content does not.
    Invalid(Refusal),
    /// Its content holds; rated, or why not.
    Parsed(Box<Parsed>, Result<Priced, Refusal>),
}

/// A record rated at list prices, and the customer's discount that applies
/// to it: its id and what it takes off (to 9 decimals).
struct Priced {
    at: RatedAt,
    discount: Option<(String, Decimal)>,
}

impl Priced {
    /// What is charged: the list amount less the discount.
    fn amount(&self) -> Decimal {
        self.at.line.list_amount - self.off()
    }

    fn off(&self) -> Decimal {
        self.discount
            .as_ref()
            .map_or(Decimal::ZERO, |(_, off)| *off)
    }
}

fn digest(p: &Parsed) -> Vec<u8> {
    let l = &p.line;
    let canonical = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        p.customer,
        p.resource.map(|r| r.to_string()).unwrap_or_default(),
        l.service_type,
        l.resource_type,
        l.spec,
        l.region,
        l.zone,
        l.size,
        l.usage_factor,
        l.usage_value.normalize(),
        l.usage_unit,
        p.starts.timestamp_micros(),
        p.ends.timestamp_micros(),
    );
    Sha256::digest(canonical.as_bytes()).to_vec()
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
    /// Checks and rates one record, reported at `now` in the billing cycle
    /// open since `open_since` (no database read: rating uses the catalogs
    /// in memory).
    fn check_record(
        &self,
        r: &pb::UsageRecord,
        (now, open_since): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Checked, BillingError> {
        if !record_id_ok(&r.record_id) {
            return Ok(Checked::BadId(Refusal::field(
                "record_id",
                "1 to 64 letters, digits, '-', '_', '.' or ':'",
            )));
        }
        let parsed = (|| {
            let customer = CustomerId::parse(&r.customer_id)
                .map_err(|e| Refusal::field("customer_id", e.to_string()))?;
            let resource = (!r.resource_id.is_empty())
                .then(|| ResourceId::parse(&r.resource_id))
                .transpose()
                .map_err(|e| Refusal::field("resource_id", e.to_string()))?;
            // As stored: PostgreSQL keeps microseconds.
            let starts = to_micros(time("start_time", r.start_time.as_ref())?);
            let ends = to_micros(time("end_time", r.end_time.as_ref())?);
            if starts >= ends {
                return Err(Refusal::field("end_time", "after start_time"));
            }
            if ends - starts > MAX_PERIOD {
                return Err(Refusal::field(
                    "start_time",
                    "at most 31 days before end_time",
                ));
            }
            if ends > now + CLOCK_SKEW {
                return Err(Refusal::field("end_time", "not in the future"));
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
            let mut p = Parsed {
                customer,
                resource,
                line,
                starts,
                ends,
                fingerprint: Vec::new(),
            };
            p.fingerprint = digest(&p);
            Ok(p)
        })();
        let p = match parsed {
            Ok(p) => p,
            Err(refusal) => return Ok(Checked::Invalid(refusal)),
        };
        // Checked after the content, so that the same content answers the
        // same however late it comes back (a stored record is DUPLICATE).
        if p.ends <= open_since {
            return Ok(Checked::Parsed(
                Box::new(p),
                Err(Refusal::because("CYCLE_CLOSED")),
            ));
        }
        let rated = match self.pricing().rate_usage_at(&p.line, p.starts) {
            Ok(at) => Ok(Priced { at, discount: None }),
            Err(e) => Err(rating_refusal(e)?),
        };
        Ok(Checked::Parsed(Box::new(p), rated))
    }

    /// Takes off each rated record the customer's discount in force when
    /// its usage started that takes most off (rates only: reductions are
    /// for period purchases).
    async fn apply_discounts(&self, checked: &mut [Checked]) -> Result<(), BillingError> {
        // A batch's records mostly share customers and start times: each
        // set of discounts is worked out once, from what is read for all
        // the batch's customers together.
        let customers: Vec<CustomerId> = checked
            .iter()
            .filter_map(|c| match c {
                Checked::Parsed(p, Ok(_)) => Some(p.customer),
                Checked::Parsed(..) | Checked::BadId(_) | Checked::Invalid(_) => None,
            })
            .collect();
        self.pricing().prime_offers(&customers).await?;
        let mut known: HashMap<_, Vec<Discount>> = HashMap::new();
        for c in checked.iter_mut() {
            let Checked::Parsed(p, Ok(priced)) = c else {
                continue;
            };
            let key = (p.customer, priced.at.currency, p.starts);
            let discounts = match known.entry(key) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(
                    self.pricing()
                        .usage_discounts_at(key.0, key.1, key.2)
                        .await?,
                ),
            };
            let l = &p.line;
            priced.discount = usage_offers(
                discounts.as_slice(),
                &l.service_type,
                &l.resource_type,
                priced.at.line.list_amount,
            )
            .first()
            .filter(|best| best.off > Decimal::ZERO)
            .map(|best| (best.discount.id.to_string(), best.off));
        }
        Ok(())
    }

    /// Stores and rates a batch of usage records (at most [`MAX_RECORDS`],
    /// with distinct ids; see [`check_batch`]): a result per record, in the
    /// order given.
    pub async fn report_usage(
        &self,
        m: Mutation,
        records: Vec<pb::UsageRecord>,
    ) -> Result<pb::ReportUsageResponse, BillingError> {
        m.principal.require(crate::access::PLATFORM_USAGE_REPORT)?;
        // The batch is stored in one statement per chunk: a repeated id
        // would fail the insert of the whole batch, not answer per record.
        let mut v = Violations::new();
        check_batch(&mut v, &records);
        v.finish()?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let now = m.now;
        // The open billing cycle began then.
        // Usage of the cycle that just ended is still taken within the
        // late-usage grace (the last hour's records come after midnight).
        let open_since = cycle_start(now - LATE_USAGE_GRACE, self.billing_zone());
        let mut checked = records
            .iter()
            .map(|r| self.check_record(r, (now, open_since)))
            .collect::<Result<Vec<_>, _>>()?;
        self.apply_discounts(&mut checked).await?;
        let ids: Vec<String> = records.iter().map(|r| r.record_id.clone()).collect();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let results = store_all(tx, ids, checked, now).await?;
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
        discount_id: row.discount_id.clone().unwrap_or_default(),
        discount_amount: row.discount_amount.clone(),
        amount: row.amount.clone(),
        ..Default::default()
    }
}

/// What a stored record says of one sent under its id: the same content
/// is a DUPLICATE with the first result; other content reuses the id.
fn against_stored(stored: &record::Model, sent: &Checked) -> pb::UsageRecordResult {
    match sent {
        Checked::Parsed(p, _) if p.fingerprint == stored.fingerprint => {
            rated_result(stored, pb::UsageRecordStatus::Duplicate)
        }
        Checked::BadId(_) | Checked::Invalid(_) | Checked::Parsed(..) => {
            refused(&stored.record_id, Refusal::because("RECORD_ID_REUSED"))
        }
    }
}

/// What a batch must be as a whole: 1 to [`MAX_RECORDS`] records whose ids
/// are distinct (the first repeat is named).
pub fn check_batch(v: &mut Violations, records: &[pb::UsageRecord]) {
    v.check(
        (1..=MAX_RECORDS).contains(&records.len()),
        "records",
        "1 to 1,000 records",
    );
    let mut seen = HashSet::with_capacity(records.len());
    if let Some(i) = records
        .iter()
        .position(|rec| !seen.insert(rec.record_id.as_str()))
    {
        v.add(&format!("records[{i}].record_id"), "distinct in the batch");
    }
}

/// Stores a batch: first what is stored already answers for its ids; the
/// rest is checked against customers and resources and inserted in
/// record-id order (two batches overlapping in another order never wait on
/// each other in a cycle). Results in the order sent.
async fn store_all(
    tx: &DatabaseTransaction,
    ids: Vec<String>,
    checked: Vec<Checked>,
    now: DateTime<Utc>,
) -> Result<Vec<pb::UsageRecordResult>, BillingError> {
    let mut stored: HashMap<String, record::Model> = HashMap::new();
    let named: Vec<String> = ids
        .iter()
        .zip(&checked)
        .filter(|(_, c)| !matches!(c, Checked::BadId(_)))
        .map(|(id, _)| id.clone())
        .collect();
    for chunk in named.chunks(LOOKUP_CHUNK) {
        for row in record::Entity::find()
            .filter(record::Column::RecordId.is_in(chunk.to_vec()))
            .all(tx)
            .await?
        {
            stored.insert(row.record_id.clone(), row);
        }
    }
    let mut results: Vec<Option<pb::UsageRecordResult>> = vec![None; ids.len()];
    let mut to_insert: Vec<usize> = Vec::new();
    for (i, (id, c)) in ids.iter().zip(&checked).enumerate() {
        results[i] = match (stored.get(id), c) {
            (Some(row), sent) => Some(against_stored(row, sent)),
            (None, Checked::BadId(r) | Checked::Invalid(r) | Checked::Parsed(_, Err(r))) => {
                Some(refused(id, r.clone()))
            }
            (None, Checked::Parsed(_, Ok(_))) => {
                to_insert.push(i);
                None
            }
        };
    }
    to_insert.sort_by(|a, b| ids[*a].cmp(&ids[*b]));
    let partners = partners_of(tx, &to_insert, &checked).await?;
    let resources = resources_of(tx, &to_insert, &checked).await?;
    let mut rows: Vec<(usize, record::Model)> = Vec::with_capacity(to_insert.len());
    for i in to_insert {
        let Checked::Parsed(p, Ok(priced)) = &checked[i] else {
            continue;
        };
        match row_of((&partners, &resources), &ids[i], (p, priced), now) {
            Ok(row) => rows.push((i, row)),
            Err(reason) => results[i] = Some(refused(&ids[i], Refusal::because(reason))),
        }
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        for (i, result) in insert_chunk(tx, chunk, &checked).await? {
            results[i] = Some(result);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// Inserts a chunk of rated records (in record-id order) in one statement;
/// their results. On SQLite the write transaction has held the only write
/// lock since the batch's ids were looked up, so no id was taken since. On
/// PostgreSQL another batch may have committed one meanwhile: the
/// statement runs under a savepoint, and if it skipped a record it is
/// undone and the chunk stored a record at a time, each answering as
/// stored or accepted. (SQLite would write a statement journal for a
/// savepoint: a cost for a case it cannot have.)
async fn insert_chunk(
    tx: &DatabaseTransaction,
    chunk: &[(usize, record::Model)],
    checked: &[Checked],
) -> Result<Vec<(usize, pb::UsageRecordResult)>, BillingError> {
    let insert = || {
        record::Entity::insert_many(
            chunk
                .iter()
                .map(|(_, row)| record::ActiveModel::from(row.clone())),
        )
        .on_conflict(
            OnConflict::column(record::Column::RecordId)
                .do_nothing()
                .to_owned(),
        )
    };
    let all_in = |n: u64| usize::try_from(n).is_ok_and(|n| n == chunk.len());
    let accepted = || {
        chunk
            .iter()
            .map(|(i, row)| (*i, rated_result(row, pb::UsageRecordStatus::Accepted)))
            .collect()
    };
    if tx.get_database_backend() == DbBackend::Sqlite {
        let inserted = insert().exec_without_returning(tx).await?;
        if !all_in(inserted) {
            return Err(KernelError::Corrupt(format!(
                "usage records taken under the write lock: {inserted} of {} stored",
                chunk.len()
            ))
            .into());
        }
        return Ok(accepted());
    }
    let savepoint = tx.begin().await?;
    if all_in(insert().exec_without_returning(&savepoint).await?) {
        savepoint.commit().await?;
        return Ok(accepted());
    }
    savepoint.rollback().await?;
    let mut out = Vec::with_capacity(chunk.len());
    for (i, row) in chunk {
        out.push((*i, store(tx, row.clone(), &checked[*i]).await?));
    }
    Ok(out)
}

/// Each known customer's partner now (`None`: it has none).
type Partners = HashMap<CustomerId, Option<Option<String>>>;
/// Each resource's customer and charging mode, by id.
type Resources = HashMap<String, (String, String)>;

/// The partners now of the customers the records `to_insert` name (read a
/// chunk at a time); an unknown customer is absent.
async fn partners_of(
    tx: &DatabaseTransaction,
    to_insert: &[usize],
    checked: &[Checked],
) -> Result<Partners, BillingError> {
    let mut named: Vec<CustomerId> = to_insert
        .iter()
        .filter_map(|i| match &checked[*i] {
            Checked::Parsed(p, Ok(_)) => Some(p.customer),
            Checked::Parsed(..) | Checked::BadId(_) | Checked::Invalid(_) => None,
        })
        .collect();
    named.sort_unstable();
    named.dedup();
    let mut out = HashMap::with_capacity(named.len());
    for chunk in named.chunks(LOOKUP_CHUNK) {
        let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let rows: Vec<(String, Option<String>)> = customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .column(customer::Column::PartnerId)
            .filter(customer::Column::Id.is_in(ids))
            .into_tuple()
            .all(tx)
            .await?;
        for (id, partner) in rows {
            out.insert(parse_stored(&id, CustomerId::parse)?, Some(partner));
        }
    }
    Ok(out)
}

/// The resources the records `to_insert` name, by id: their customer and
/// charging mode (read a chunk at a time).
async fn resources_of(
    tx: &DatabaseTransaction,
    to_insert: &[usize],
    checked: &[Checked],
) -> Result<Resources, BillingError> {
    let named: Vec<String> = to_insert
        .iter()
        .filter_map(|i| match &checked[*i] {
            Checked::Parsed(p, Ok(_)) => p.resource.map(|r| r.to_string()),
            Checked::Parsed(..) | Checked::BadId(_) | Checked::Invalid(_) => None,
        })
        .collect();
    let mut out = HashMap::with_capacity(named.len());
    for chunk in named.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(String, String, String)> = resource::Entity::find()
            .select_only()
            .column(resource::Column::Id)
            .column(resource::Column::CustomerId)
            .column(resource::Column::ChargingMode)
            .filter(resource::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(tx)
            .await?;
        for (id, customer, mode) in rows {
            out.insert(id, (customer, mode));
        }
    }
    Ok(out)
}

/// The row to store for a rated record, or why it is refused (its
/// customer unknown, or its resource not the customer's on-demand one).
fn row_of(
    (partners, resources): (&Partners, &Resources),
    id: &str,
    (p, priced): (&Parsed, &Priced),
    now: DateTime<Utc>,
) -> Result<record::Model, &'static str> {
    // The customer's partner now (`None` for an unknown customer).
    let partner = partners.get(&p.customer).cloned().flatten();
    let Some(partner) = partner else {
        return Err("CUSTOMER_NOT_FOUND");
    };
    let customer = p.customer.to_string();
    if let Some(resource) = p.resource {
        match resources.get(&resource.to_string()) {
            Some((owner, _)) if *owner != customer => {
                return Err("RESOURCE_NOT_FOUND");
            }
            None => return Err("RESOURCE_NOT_FOUND"),
            // A resource paid for by the period is not charged by use.
            Some((_, mode)) if mode != ChargingMode::OnDemand.as_str() => {
                return Err("RESOURCE_NOT_ON_DEMAND");
            }
            Some(_) => {}
        }
    }
    let l = &p.line;
    Ok(record::Model {
        record_id: id.to_owned(),
        fingerprint: p.fingerprint.clone(),
        partner_id: partner,
        customer_id: customer,
        resource_id: p.resource.map(|x| x.to_string()),
        service_type: l.service_type.clone(),
        resource_type: l.resource_type.clone(),
        spec: l.spec.clone(),
        region: l.region.clone(),
        zone: l.zone.clone(),
        size: l.size,
        usage_factor: l.usage_factor.clone(),
        usage_value: l.usage_value.normalize().to_string(),
        usage_unit: l.usage_unit.clone(),
        starts_at: p.starts,
        ends_at: p.ends,
        list_amount: priced.at.line.list_amount.normalize().to_string(),
        currency: priced.at.currency.code().to_owned(),
        catalog_version: priced.at.catalog_version,
        reported_at: now,
        discount_id: priced.discount.as_ref().map(|(id, _)| id.clone()),
        discount_amount: priced.off().normalize().to_string(),
        amount: priced.amount().normalize().to_string(),
        settlement_id: None,
    })
}

/// Stores one rated record unless its id was taken meanwhile; its result.
async fn store(
    tx: &DatabaseTransaction,
    row: record::Model,
    sent: &Checked,
) -> Result<pb::UsageRecordResult, BillingError> {
    let id = row.record_id.clone();
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
    // Taken by a batch that committed meanwhile.
    let stored = record::Entity::find_by_id(id.clone())
        .one(tx)
        .await?
        .ok_or_else(|| KernelError::Corrupt(format!("usage record {id} taken and gone")))?;
    Ok(against_stored(&stored, sent))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_one_to_a_thousand_records_of_distinct_ids() {
        let record = |id: &str| pb::UsageRecord {
            record_id: id.to_owned(),
            ..Default::default()
        };
        let violations = |records: &[pb::UsageRecord]| {
            let mut v = Violations::new();
            check_batch(&mut v, records);
            match v.finish() {
                Ok(()) => Vec::new(),
                Err(KernelError::Invalid(list)) => list.into_iter().map(|f| f.field).collect(),
                Err(e) => panic!("{e}"),
            }
        };
        assert!(violations(&[record("a"), record("b")]).is_empty());
        assert_eq!(
            violations(&[record("a"), record("b"), record("a")]),
            ["records[2].record_id"]
        );
        assert_eq!(violations(&[]), ["records"]);
        let many: Vec<_> = (0..=MAX_RECORDS).map(|i| record(&i.to_string())).collect();
        assert_eq!(violations(&many), ["records"]);
    }

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
