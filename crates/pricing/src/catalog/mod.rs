//! The catalog: versions kept in the database, each a whole checked
//! document, held in memory once loaded (a catalog is hundreds of specs,
//! and rating reads it on every call). Reads and rating use the version in
//! force at the time asked for.

pub mod csv;
pub mod document;
pub mod entity;
pub mod import;
pub mod versions;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::money::Currency;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use document::{Document, PeriodUnit, ResourceType, Spec};
// Rating looks up several of these per line on every call; hashbrown's
// default hasher (foldhash, seeded per process) costs a fraction of std's
// SipHash on these short keys, and the keys come from the operator's
// catalog, not from callers.
use hashbrown::HashMap;

/// The catalog a server starts with when it has none (docs/pricing.md).
pub const DEMO: &str = include_str!("../../catalog/demo.json");

/// A spec's parsed prices: region → period unit → price.
pub type Prices = HashMap<String, HashMap<PeriodUnit, Decimal>>;

/// An on-demand price, parsed: `price` per `unit`, which is `to_base` of
/// its factor's base unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRate {
    pub unit: String,
    pub to_base: Decimal,
    pub price: Decimal,
}

/// A spec's parsed on-demand prices: region → usage factor → rate.
pub type UsagePrices = HashMap<String, HashMap<String, UsageRate>>;

/// One catalog version, indexed for rating.
#[derive(Debug)]
pub struct Version {
    pub version: i64,
    pub effective_from: DateTime<Utc>,
    pub doc: Document,
    pub currency: Currency,
    /// Service type → resource type → index (looked up by `&str`, no allocation).
    kinds: HashMap<String, HashMap<String, usize>>,
    /// Service type → resource type → spec → index.
    specs: HashMap<String, HashMap<String, HashMap<String, usize>>>,
    /// Parsed prices, by spec index.
    prices: Vec<Prices>,
    /// Parsed on-demand prices, by spec index.
    usage: Vec<UsagePrices>,
    /// Usage factor → measure unit → its factor to the base unit.
    units: HashMap<String, HashMap<String, Decimal>>,
}

impl Version {
    /// A version of `doc`, which must have no problems.
    pub fn new(version: i64, effective_from: DateTime<Utc>, doc: Document) -> Result<Self, String> {
        let problems = doc.problems();
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let currency = Currency::parse(&doc.currency).map_err(|e| e.to_string())?;
        let mut kinds: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, t) in doc.resource_types.iter().enumerate() {
            kinds
                .entry(t.service_type.clone())
                .or_default()
                .insert(t.id.clone(), i);
        }
        let mut specs: HashMap<String, HashMap<String, HashMap<String, usize>>> = HashMap::new();
        for (i, s) in doc.specs.iter().enumerate() {
            specs
                .entry(s.service_type.clone())
                .or_default()
                .entry(s.resource_type.clone())
                .or_default()
                .insert(s.id.clone(), i);
        }
        let mut prices = Vec::with_capacity(doc.specs.len());
        for s in &doc.specs {
            let mut by_region = HashMap::new();
            for (region, by_unit) in &s.prices {
                let mut units = HashMap::new();
                for (unit, raw) in by_unit {
                    units.insert(*unit, document::price(raw)?);
                }
                by_region.insert(region.clone(), units);
            }
            prices.push(by_region);
        }
        let mut units: HashMap<String, HashMap<String, Decimal>> = HashMap::new();
        for u in &doc.measure_units {
            units
                .entry(u.usage_factor.clone())
                .or_default()
                .insert(u.id.clone(), document::plain_decimal(&u.to_base)?);
        }
        let mut usage = Vec::with_capacity(doc.specs.len());
        for s in &doc.specs {
            let mut by_region = HashMap::new();
            for (region, by_factor) in &s.usage_prices {
                let mut factors = HashMap::new();
                for (factor, p) in by_factor {
                    let to_base = units
                        .get(factor)
                        .and_then(|u| u.get(&p.unit))
                        .copied()
                        .ok_or_else(|| format!("no measure unit {}", p.unit))?;
                    let rate = UsageRate {
                        unit: p.unit.clone(),
                        to_base,
                        price: document::price(&p.price)?,
                    };
                    factors.insert(factor.clone(), rate);
                }
                by_region.insert(region.clone(), factors);
            }
            usage.push(by_region);
        }
        Ok(Self {
            version,
            effective_from,
            doc,
            currency,
            kinds,
            specs,
            prices,
            usage,
            units,
        })
    }

    /// Whether the version has service type `service`.
    pub fn sells_service(&self, service: &str) -> bool {
        self.doc.service_types.iter().any(|s| s.id == service)
    }

    pub fn resource_type(&self, service: &str, kind: &str) -> Option<&ResourceType> {
        let i = self.kinds.get(service)?.get(kind)?;
        Some(&self.doc.resource_types[*i])
    }

    /// A spec and its parsed prices.
    pub fn spec(&self, service: &str, kind: &str, spec: &str) -> Option<(&Spec, &Prices)> {
        let i = self.specs.get(service)?.get(kind)?.get(spec)?;
        Some((&self.doc.specs[*i], &self.prices[*i]))
    }

    /// A spec's on-demand prices.
    pub fn usage_prices(&self, service: &str, kind: &str, spec: &str) -> Option<&UsagePrices> {
        let i = self.specs.get(service)?.get(kind)?.get(spec)?;
        Some(&self.usage[*i])
    }

    /// How many base units of `factor` one `unit` is.
    pub fn to_base(&self, factor: &str, unit: &str) -> Option<Decimal> {
        self.units.get(factor)?.get(unit).copied()
    }

    pub fn zones_of(&self, region: &str) -> Option<&[String]> {
        self.doc
            .regions
            .iter()
            .find(|r| r.id == region)
            .map(|r| r.zones.as_slice())
    }
}

/// The versions read so far.
#[derive(Debug, Default)]
struct Loaded {
    /// Readable versions, by (effective from, version).
    versions: Vec<Arc<Version>>,
    /// The highest version number read (readable or not).
    seen_up_to: i64,
}

/// Every loaded version, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    loaded: Arc<RwLock<Loaded>>,
}

impl Catalogs {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The version in force at `at`: the latest effective at or before it.
    pub fn in_force(&self, at: DateTime<Utc>) -> Option<Arc<Version>> {
        self.read()
            .versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= at)
            .cloned()
    }

    /// Reads the versions stored since the last call (all of them the first
    /// time: versions never change once stored, and numbers only grow); on
    /// an empty database first stores the demo catalog as version 1, in
    /// force since always. Two replicas starting at once store it once (the
    /// version is the key).
    pub async fn load(&self, db: &Db, now: DateTime<Utc>) -> Result<(), KernelError> {
        let seen = self.read().seen_up_to;
        let newer = || {
            entity::Entity::find()
                .filter(entity::Column::Version.gt(seen))
                .order_by_asc(entity::Column::Version)
        };
        let mut rows = newer().all(db.conn()).await?;
        if rows.is_empty() && seen == 0 {
            let demo = entity::ActiveModel {
                version: Set(1),
                effective_from: Set(DateTime::<Utc>::UNIX_EPOCH),
                document: Set(DEMO.to_owned()),
                source: Set("demo".into()),
                created_at: Set(now),
            };
            let stored = demo.insert(db.conn()).await;
            rows = newer().all(db.conn()).await?;
            // Another replica storing it first is fine; anything else is not.
            if let (Err(e), true) = (stored, rows.is_empty()) {
                return Err(e.into());
            }
        }
        let Some(last) = rows.last().map(|r| r.version) else {
            return Ok(());
        };
        let mut parsed_rows = Vec::with_capacity(rows.len());
        for row in rows {
            // A version this server cannot read (hand-edited, or written by a
            // newer release) is left out, loudly, rather than stopping the
            // server or hiding the versions it can read.
            let parsed = serde_json::from_str::<Document>(&row.document)
                .map_err(|e| e.to_string())
                .and_then(|doc| Version::new(row.version, row.effective_from, doc));
            match parsed {
                Ok(version) => parsed_rows.push(Arc::new(version)),
                Err(e) => tracing::error!(
                    version = row.version,
                    error = %e,
                    "a stored catalog version cannot be read; it is left out"
                ),
            }
        }
        let mut loaded = self
            .loaded
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another load may have run meanwhile: keep each version once.
        if loaded.seen_up_to >= last {
            return Ok(());
        }
        let known = loaded.seen_up_to;
        loaded
            .versions
            .extend(parsed_rows.into_iter().filter(|v| v.version > known));
        loaded
            .versions
            .sort_by_key(|v| (v.effective_from, v.version));
        loaded.seen_up_to = last;
        Ok(())
    }
}
