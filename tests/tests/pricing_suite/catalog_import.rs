//! Importing catalogs through the real server and the console: a YAML or CSV
//! file checked as a whole, every problem with its line, nothing stored
//! while there is one; a stored version in force from its time, so rating
//! uses the version in force when it rates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use partner_api::pricing::v1 as pr;
use partner_api::r#type::v1::Money;
use partner_kernel::clock::{Clock, TestClock};
use partner_pricing::catalog::document::{Document, PeriodUnit};
use partner_pricing::catalog::{DEMO, csv};
use partner_server::config::{CatalogAction, CatalogFileFormat};
use partner_tests::*;
use tonic::Code;
use tonic_types::StatusExt;

fn demo() -> Document {
    serde_json::from_str(DEMO).unwrap()
}

/// The demo with c6.large.2's Beijing month at `price`.
fn repriced(price: &str) -> Document {
    let mut doc = demo();
    let spec = doc.specs.iter_mut().find(|s| s.id == "c6.large.2").unwrap();
    spec.prices
        .get_mut("cn-north-1")
        .unwrap()
        .insert(PeriodUnit::Month, price.into());
    doc
}

fn import(
    format: pr::CatalogFormat,
    content: String,
    at: Option<chrono::DateTime<Utc>>,
) -> pr::ImportCatalogRequest {
    pr::ImportCatalogRequest {
        request_id: new_request_id(),
        format: format as i32,
        content,
        effective_time: at.map(|t| prost_types::Timestamp {
            seconds: t.timestamp(),
            nanos: 0,
        }),
    }
}

/// One VM for a month in Beijing: its list total.
async fn month_of_vm(server: &TestServer, token: &str) -> (Option<Money>, i64) {
    let r = ok(server
        .rating(token)
        .rate_period_products(pr::RatePeriodProductsRequest {
            lines: vec![pr::PeriodProductLine {
                line_id: "vm".into(),
                service_type: "compute".into(),
                resource_type: "vm".into(),
                spec: "c6.large.2".into(),
                region: "cn-north-1".into(),
                period_unit: pr::PeriodUnit::Month as i32,
                period_count: 1,
                quantity: 1,
                main_line_id: String::new(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await);
    (r.list_total, r.catalog_version)
}

fn cny(units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        units,
        nanos: 0,
    })
}

#[tokio::test]
async fn an_imported_version_comes_into_force_at_its_time() {
    let clock = Arc::new(TestClock::new(Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "importer").await;
    let yaml = yaml_serde::to_string(&repriced("160")).unwrap();
    let from = clock.now() + Duration::hours(1);
    let stored = ok(server
        .catalog(&admin)
        .import_catalog(import(pr::CatalogFormat::Yaml, yaml, Some(from)))
        .await)
    .version
    .unwrap();
    assert_eq!((stored.version, stored.source.as_str()), (2, "import"));

    // Until then, version 1 prices; from then, version 2's.
    assert_eq!(month_of_vm(&server, &master).await, (cny(152), 1));
    clock.advance(Duration::hours(1));
    let (admin, master) = (
        server.admin_token().await,
        server.login("importer", USER_PASSWORD).await,
    );
    assert_eq!(month_of_vm(&server, &master).await, (cny(160), 2));
    let versions = ok(server
        .catalog(&admin)
        .list_catalog_versions(pr::ListCatalogVersionsRequest {})
        .await)
    .versions;
    let listed: Vec<_> = versions.iter().map(|v| (v.version, v.in_force)).collect();
    assert_eq!(listed, vec![(2, true), (1, false)]);

    // A CSV import in force at once; a time in the past is refused.
    let csv_file = csv::write(&repriced("170"));
    ok(server
        .catalog(&admin)
        .import_catalog(import(pr::CatalogFormat::Csv, csv_file.clone(), None))
        .await);
    assert_eq!(month_of_vm(&server, &master).await, (cny(170), 3));
    let past = import(
        pr::CatalogFormat::Csv,
        csv_file,
        Some(clock.now() - Duration::minutes(1)),
    );
    let refused = server
        .catalog(&admin)
        .import_catalog(past)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), vec!["effective_time"]);

    // Partners read the catalog but do not import one.
    assert_refused(
        server
            .catalog(&master)
            .import_catalog(import(pr::CatalogFormat::Yaml, "x".into(), None))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_problem_on_its_line() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let good = csv::write(&demo());
    let mut rows: Vec<String> = good.lines().map(str::to_owned).collect();
    // Row 3 gets an unknown record kind; the first price row a negative
    // price; the first spec row a resource type no row made.
    rows[2] = rows[2].replacen("region,", "regoin,", 1);
    let price = rows.iter().position(|r| r.starts_with("price,")).unwrap();
    let mut cells: Vec<String> = rows[price].split(',').map(str::to_owned).collect();
    cells[14] = "-1".into();
    rows[price] = cells.join(",");
    let refused = server
        .catalog(&admin)
        .import_catalog(import(pr::CatalogFormat::Csv, rows.join("\n"), None))
        .await
        .unwrap_err();
    let problems: Vec<String> = refused
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("content: line 3: record: `regoin`"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with(&format!("content: line {}: price:", price + 1)),
        "{problems:?}"
    );
    // Nothing was stored.
    assert_eq!(server.rows("pricing_catalog_versions").await, 1);

    // YAML: a spec naming a resource type that does not exist is reported
    // on the spec's line.
    let mut doc = demo();
    doc.specs[2].resource_type = "nope".into();
    let yaml = yaml_serde::to_string(&doc).unwrap();
    let refused = server
        .catalog(&admin)
        .import_catalog(import(pr::CatalogFormat::Yaml, yaml.clone(), None))
        .await
        .unwrap_err();
    let violation = refused.get_details_bad_request().unwrap().field_violations[0].clone();
    let line: usize = violation
        .description
        .strip_prefix("line ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{violation:?}"));
    let lines: Vec<&str> = yaml.lines().collect();
    let spec_start = lines[line - 1];
    assert!(spec_start.trim_start().starts_with("- "), "{spec_start}");
    let block: String = lines[line - 1..]
        .iter()
        .take(4)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(block.contains(&doc.specs[2].id), "{block}");
    assert!(
        violation.description.contains("specs[2]: no resource type"),
        "{violation:?}"
    );
    // And a YAML syntax error names its line.
    let broken = format!("{yaml}specs: [unclosed\n");
    let refused = server
        .catalog(&admin)
        .import_catalog(import(pr::CatalogFormat::Yaml, broken, None))
        .await
        .unwrap_err();
    let description = &refused.get_details_bad_request().unwrap().field_violations[0].description;
    assert!(description.starts_with("line "), "{description}");
    assert_eq!(server.rows("pricing_catalog_versions").await, 1);
}

#[tokio::test]
async fn the_console_imports_and_exports_a_catalog() {
    let db = TestDb::fresh().await;
    let config = test_config(&db);
    let dir = std::env::temp_dir().join(format!("catalog-{}", new_request_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("prices.yaml");
    std::fs::write(&file, yaml_serde::to_string(&repriced("199")).unwrap()).unwrap();
    partner_server::catalog_cli::run(
        &config,
        CatalogAction::Import {
            file: file.clone(),
            format: None,
            effective_from: None,
        },
    )
    .await
    .unwrap();
    // A bad file is refused with its problems, and nothing is stored.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "record,oops\n").unwrap();
    let refused = partner_server::catalog_cli::run(
        &config,
        CatalogAction::Import {
            file: bad,
            format: Some(CatalogFileFormat::Csv),
            effective_from: None,
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("bad.csv: line 1: the header must be"),
        "{refused}"
    );

    // The export is the imported document, in either format.
    let exported = partner_server::catalog_cli::export(&config, CatalogFileFormat::Csv)
        .await
        .unwrap();
    assert_eq!(exported, csv::write(&repriced("199")));
    let exported = partner_server::catalog_cli::export(&config, CatalogFileFormat::Yaml)
        .await
        .unwrap();
    assert_eq!(
        yaml_serde::from_str::<Document>(&exported).unwrap(),
        repriced("199")
    );

    // A server over that database prices with the imported version (the
    // first: the demo is stored only where there is no catalog at all).
    let server = TestServer::start_on(db, |_| {}).await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "console").await;
    assert_eq!(month_of_vm(&server, &master).await, (cny(199), 1));
    std::fs::remove_dir_all(&dir).unwrap();
}
