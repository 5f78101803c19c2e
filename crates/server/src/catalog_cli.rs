//! `partner-server catalog import FILE | export`: the operator's console
//! path to the catalog versions `CatalogService.ImportCatalog` stores.

use chrono::{DateTime, Utc};
use partner_kernel::clock::{Clock, SystemClock};
use partner_pricing::catalog::import::Format;
use partner_pricing::catalog::versions::check;
use partner_pricing::catalog::{Catalogs, csv};

use crate::app::{StartError, connect_and_migrate};
use crate::config::{CatalogAction, CatalogFileFormat, Config};

fn format_of(given: Option<CatalogFileFormat>, path: &str) -> Result<Format, StartError> {
    match given {
        Some(CatalogFileFormat::Yaml) => Ok(Format::Yaml),
        Some(CatalogFileFormat::Csv) => Ok(Format::Csv),
        None => Format::of_path(path).ok_or_else(|| {
            StartError::Setup(format!(
                "{path}: say --format yaml or --format csv (the extension does not tell)"
            ))
        }),
    }
}

/// Runs one `catalog` action against the configured database.
pub async fn run(config: &Config, action: CatalogAction) -> Result<(), StartError> {
    let now = SystemClock.now();
    match action {
        CatalogAction::Import {
            file,
            format,
            effective_from,
        } => {
            let path = file.display().to_string();
            let format = format_of(format, &path)?;
            let effective = match effective_from {
                Some(raw) => DateTime::parse_from_rfc3339(&raw)
                    .map_err(|e| StartError::Setup(format!("--effective-from: {e}")))?
                    .with_timezone(&Utc),
                None => now,
            };
            if effective < now {
                return Err(StartError::Setup(
                    "--effective-from: not before now (ratings already made used the versions in force then)".into(),
                ));
            }
            let content = std::fs::read_to_string(&file)
                .map_err(|e| StartError::Setup(format!("{path}: {e}")))?;
            let doc = check(format, &content).map_err(|problems| {
                let listed: Vec<String> = problems.iter().map(|p| format!("{path}: {p}")).collect();
                StartError::Setup(format!(
                    "the catalog was not imported:\n{}",
                    listed.join("\n")
                ))
            })?;
            let db = connect_and_migrate(config).await?;
            let version = Catalogs::import(&db, &doc, effective, now)
                .await
                .map_err(|e| StartError::Setup(e.to_string()))?;
            println!(
                "imported: version {version}, {} specs, in force from {}",
                doc.specs.len(),
                effective.to_rfc3339()
            );
            db.close().await?;
        }
        CatalogAction::Export { format } => print!("{}", export(config, format).await?),
    }
    Ok(())
}

/// The version in force now, written as `format`.
pub async fn export(config: &Config, format: CatalogFileFormat) -> Result<String, StartError> {
    let db = connect_and_migrate(config).await?;
    let catalogs = Catalogs::default();
    let now = SystemClock.now();
    catalogs
        .load(&db, now)
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
    db.close().await?;
    let version = catalogs
        .in_force(now)
        .ok_or_else(|| StartError::Setup("no catalog version is in force".into()))?;
    match format {
        CatalogFileFormat::Yaml => {
            yaml_serde::to_string(&version.doc).map_err(|e| StartError::Setup(e.to_string()))
        }
        CatalogFileFormat::Csv => Ok(csv::write(&version.doc)),
    }
}
