//! Storing and listing catalog versions: the operator's `ImportCatalog`
//! and the console's `partner-server catalog import`.

use chrono::{DateTime, Utc};
use partner_api::pricing::v1 as pb;
use partner_kernel::clock::{to_micros, to_proto_timestamp};
use partner_kernel::db::lock_key;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, QueryOrder};

use super::document::Document;
use super::entity;
use super::import::{self, Format, Problem};
use super::{Catalogs, Version};
use crate::access::{CATALOG_READ, PLATFORM_CATALOG_MANAGE, PLATFORM_CATALOG_READ};
use crate::error::PricingError;
use crate::service::Pricing;

/// Reads and checks a catalog file completely; its problems as field
/// violations of `content`, each naming its line.
pub fn check(format: Format, content: &str) -> Result<Document, Vec<Problem>> {
    let doc = import::parse(format, content)?;
    // What rating will index must index (it cannot fail once the document
    // has no problems; checked so that nothing unusable is ever stored).
    Version::new(0, DateTime::<Utc>::UNIX_EPOCH, doc.clone()).map_err(|e| {
        vec![Problem {
            line: None,
            message: e,
        }]
    })?;
    Ok(doc)
}

fn violations(problems: Vec<Problem>) -> KernelError {
    KernelError::Invalid(
        problems
            .into_iter()
            .map(|p| FieldViolation::new("content", p.to_string()))
            .collect(),
    )
}

/// Stores `doc` as the next version, in force from `effective_from`.
/// Concurrent imports take their numbers one after the other.
pub async fn store(
    conn: &impl ConnectionTrait,
    doc: &Document,
    effective_from: DateTime<Utc>,
    source: &str,
    now: DateTime<Utc>,
) -> Result<entity::Model, KernelError> {
    lock_key(conn, "pricing_catalog_versions").await?;
    let last = entity::Entity::find()
        .order_by_desc(entity::Column::Version)
        .one(conn)
        .await?;
    let row = entity::Model {
        version: last.map_or(1, |r| r.version + 1),
        effective_from,
        document: serde_json::to_string(doc)
            .map_err(|e| KernelError::Corrupt(format!("catalog document: {e}")))?,
        source: source.to_owned(),
        created_at: now,
    };
    entity::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(conn)
        .await?;
    Ok(row)
}

fn version_to_proto(row: &entity::Model, in_force: Option<i64>) -> pb::CatalogVersion {
    pb::CatalogVersion {
        version: row.version,
        effective_time: Some(to_proto_timestamp(row.effective_from)),
        source: row.source.clone(),
        create_time: Some(to_proto_timestamp(row.created_at)),
        in_force: in_force == Some(row.version),
    }
}

impl Pricing {
    /// The operator imports a catalog file as the next version.
    pub async fn import_catalog(
        &self,
        m: Mutation,
        format: Format,
        content: String,
        effective_from: Option<DateTime<Utc>>,
    ) -> Result<pb::ImportCatalogResponse, PricingError> {
        m.principal.require(PLATFORM_CATALOG_MANAGE)?;
        let effective_from = to_micros(effective_from.unwrap_or(m.now));
        if effective_from < m.now {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "effective_time",
                "not before now: ratings already made used the versions in force then",
            )])
            .into());
        }
        // Up to 4 MiB of parsing and checking: off the request threads.
        let doc = tokio::task::spawn_blocking(move || check(format, &content))
            .await
            .map_err(|e| KernelError::Corrupt(format!("catalog check stopped: {e}")))?
            .map_err(violations)?;
        let now = m.now;
        let response = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let row = store(tx, &doc, effective_from, "import", now).await?;
                let change = Change::of(None, format!("catalog-v{}", row.version)).after(
                    serde_json::json!({
                        "version": row.version,
                        "effective_from": row.effective_from,
                        "specs": doc.specs.len(),
                    }),
                );
                let response = pb::ImportCatalogResponse {
                    version: Some(version_to_proto(&row, None)),
                };
                Ok::<_, PricingError>(Outcome::new(response, change))
            })
        })
        .await?;
        // This replica uses it at once; the others within their reread.
        self.reload().await?;
        Ok(response)
    }

    /// Every stored version, newest first.
    pub async fn catalog_versions(
        &self,
        p: &Principal,
    ) -> Result<Vec<pb::CatalogVersion>, PricingError> {
        if !p.holds(&PLATFORM_CATALOG_READ) {
            p.require(CATALOG_READ)?;
        }
        let in_force = self.in_force().ok().map(|v| v.version);
        let rows = entity::Entity::find()
            .order_by_desc(entity::Column::Version)
            .all(self.db().conn())
            .await?;
        Ok(rows.iter().map(|r| version_to_proto(r, in_force)).collect())
    }
}

impl Catalogs {
    /// Stores `doc` as the next version through `db` (the console's path),
    /// returning its number.
    pub async fn import(
        db: &partner_kernel::db::Db,
        doc: &Document,
        effective_from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64, KernelError> {
        let tx = db.begin_write().await?;
        let row = store(&*tx, doc, to_micros(effective_from), "cli", now).await?;
        tx.commit().await?;
        Ok(row.version)
    }
}
