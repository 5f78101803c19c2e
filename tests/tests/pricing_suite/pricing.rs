//! Pricing through the real server: the demo catalog loaded on first start,
//! its listings, and period rating at list prices against amounts worked out
//! by hand here (sizes, periods, quantities, regions, rounding), with the
//! refusals of lines that name no product or break its rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_api::pricing::v1 as pr;
use partner_api::r#type::v1::Money;
use partner_tests::*;
use tonic::Code;

fn cny(units: i64, nanos: i32) -> Money {
    Money {
        currency_code: "CNY".into(),
        units,
        nanos,
    }
}

/// Cents as Money.
fn cents(c: i64) -> Money {
    cny(c / 100, i32::try_from((c % 100) * 10_000_000).unwrap())
}

#[allow(clippy::too_many_arguments)]
fn line(
    id: &str,
    product: (&str, &str, &str),
    region: &str,
    size: i64,
    unit: pr::PeriodUnit,
    count: i32,
    quantity: i32,
) -> pr::PeriodProductLine {
    pr::PeriodProductLine {
        line_id: id.into(),
        service_type: product.0.into(),
        resource_type: product.1.into(),
        spec: product.2.into(),
        region: region.into(),
        zone: String::new(),
        size,
        period_unit: unit as i32,
        period_count: count,
        quantity,
        main_line_id: String::new(),
    }
}

const VM: (&str, &str, &str) = ("compute", "vm", "c6.large.2");
const SSD: (&str, &str, &str) = ("block_storage", "volume", "ssd");
const BANDWIDTH: (&str, &str, &str) = ("network", "bandwidth", "bgp");
const EIP: (&str, &str, &str) = ("network", "eip", "5_bgp");
const MYSQL: (&str, &str, &str) = ("database", "mysql", "mysql.x1.large.2.ha");

async fn partner(server: &TestServer) -> String {
    let admin = server.admin_token().await;
    server.register_partner(&admin, "pricer").await.1
}

async fn rate(
    server: &TestServer,
    token: &str,
    lines: Vec<pr::PeriodProductLine>,
) -> Result<pr::RatePeriodProductsResponse, tonic::Status> {
    server
        .rating(token)
        .rate_period_products(pr::RatePeriodProductsRequest {
            lines,
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_demo_catalog_is_there_on_first_start() {
    let server = TestServer::start().await;
    let token = partner(&server).await;
    let mut catalog = server.catalog(&token);
    let services = ok(catalog
        .list_service_types(pr::ListServiceTypesRequest {})
        .await);
    assert_eq!(services.catalog_version, 1);
    let ids: Vec<&str> = services
        .service_types
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    for id in [
        "compute",
        "block_storage",
        "network",
        "object_storage",
        "database",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let regions = ok(catalog.list_regions(pr::ListRegionsRequest {}).await).regions;
    assert!(regions.len() >= 3);
    assert!(regions.iter().all(|r| !r.zones.is_empty()));
    let kinds = ok(catalog
        .list_resource_types(pr::ListResourceTypesRequest {
            service_type: "block_storage".into(),
        })
        .await)
    .resource_types;
    assert_eq!(kinds.len(), 1);
    let disk = &kinds[0];
    assert_eq!(disk.size.as_ref().map(|s| s.unit.as_str()), Some("GB"));
    let specs = ok(catalog
        .list_resource_specs(pr::ListResourceSpecsRequest {
            service_type: "compute".into(),
            region: "cn-east-2".into(),
            ..Default::default()
        })
        .await)
    .specs;
    let c6 = specs.iter().find(|s| s.id == "c6.large.2").unwrap();
    assert!(c6.prices.iter().all(|p| p.region == "cn-east-2"));
    let month = c6
        .prices
        .iter()
        .find(|p| p.unit == pr::PeriodUnit::Month as i32)
        .unwrap();
    assert_eq!(month.amount, Some(cny(159, 600_000_000)));
    let hour = c6
        .prices
        .iter()
        .find(|p| p.unit == pr::PeriodUnit::Hour as i32)
        .unwrap();
    assert_eq!(
        hour.amount,
        Some(cny(0, 331_800_000)),
        "prices keep their decimals"
    );
    assert!(
        !ok(catalog
            .list_usage_factors(pr::ListUsageFactorsRequest {})
            .await)
        .usage_factors
        .is_empty()
    );
    assert!(
        !ok(catalog
            .list_measure_units(pr::ListMeasureUnitsRequest {})
            .await)
        .measure_units
        .is_empty()
    );
    // A restart keeps the one version.
    let server = server.restart().await;
    let token = server.login("pricer", USER_PASSWORD).await;
    let again = ok(server
        .catalog(&token)
        .list_service_types(pr::ListServiceTypesRequest {})
        .await);
    assert_eq!(again.catalog_version, 1);
    assert_eq!(server.rows("pricing_catalog_versions").await, 1);
}

#[tokio::test]
async fn period_lines_are_rated_at_list_prices_as_worked_out_by_hand() {
    use pr::PeriodUnit::{Day, Hour, Month, Year};
    let server = TestServer::start().await;
    let token = partner(&server).await;
    // (line, unit price, list amount in cents), worked out from the demo catalog:
    let cases = [
        // 152.00 a month × 3 months × 2 VMs = 912.00
        (
            line("vm-3m", VM, "cn-north-1", 0, Month, 3, 2),
            cny(152, 0),
            91_200,
        ),
        // a year is ten months: 1,520.00 × 1 × 1
        (
            line("vm-1y", VM, "cn-north-1", 0, Year, 1, 1),
            cny(1520, 0),
            152_000,
        ),
        // Shanghai is 5 % dearer: 159.60 × 2 years... of 1,596.00 = 3,192.00
        (
            line("vm-sh", VM, "cn-east-2", 0, Year, 2, 1),
            cny(1596, 0),
            319_200,
        ),
        // Hong Kong, hourly: 0.4108 × 5 h × 3 = 6.162 → 6.16
        (
            line("vm-hk-h", VM, "ap-southeast-1", 0, Hour, 5, 3),
            cny(0, 410_800_000),
            616,
        ),
        // 0.316 × 1 h = 0.316 → 0.32 (half-up at the minor unit)
        (
            line("vm-1h", VM, "cn-north-1", 0, Hour, 1, 1),
            cny(0, 316_000_000),
            32,
        ),
        // 0.3318 × 3 h = 0.9954 → 1.00
        (
            line("vm-sh-3h", VM, "cn-east-2", 0, Hour, 3, 1),
            cny(0, 331_800_000),
            100,
        ),
        // a linear disk: 1.00 per GB-month × 40 GB × 6 months × 2 = 480.00
        (
            line("ssd", SSD, "cn-north-1", 40, Month, 6, 2),
            cny(1, 0),
            48_000,
        ),
        // 1.05 per GB-month × 100 GB × 1 = 105.00 in Shanghai
        (
            line("ssd-sh", SSD, "cn-east-2", 100, Month, 1, 1),
            cny(1, 50_000_000),
            10_500,
        ),
        // bandwidth: 23.00 per Mbit/s-month × 5 Mbit/s × 1 year (230.00) = 1,150.00
        (
            line("bw", BANDWIDTH, "cn-north-1", 5, Year, 1, 1),
            cny(230, 0),
            115_000,
        ),
        // an elastic IP by the day in Hong Kong: 1.04 × 7 = 7.28
        (
            line("eip", EIP, "ap-southeast-1", 0, Day, 7, 1),
            cny(1, 40_000_000),
            728,
        ),
        // a primary/standby database, Hong Kong, 3 years: 11,128.00 × 3 = 33,384.00
        (
            line("db", MYSQL, "ap-southeast-1", 0, Year, 3, 1),
            cny(11_128, 0),
            3_338_400,
        ),
    ];
    let lines: Vec<_> = cases.iter().map(|(l, _, _)| l.clone()).collect();
    let rated = rate(&server, &token, lines).await.unwrap();
    assert_eq!(rated.catalog_version, 1);
    assert_eq!(rated.lines.len(), cases.len());
    let mut total = 0;
    for ((l, unit, amount), got) in cases.iter().zip(&rated.lines) {
        assert_eq!(got.line_id, l.line_id, "in request order");
        assert_eq!(got.unit_price.as_ref(), Some(unit), "{}", l.line_id);
        assert_eq!(got.list_amount, Some(cents(*amount)), "{}", l.line_id);
        total += amount;
    }
    // The total is the sum of the rounded lines.
    assert_eq!(rated.list_total, Some(cents(total)));
}

#[tokio::test]
async fn a_line_naming_no_product_is_not_found_with_its_id() {
    use pr::PeriodUnit::Month;
    let server = TestServer::start().await;
    let token = partner(&server).await;
    let good = line("ok", VM, "cn-north-1", 0, Month, 1, 1);
    for (bad, missing) in [
        (
            line(
                "x",
                ("compute", "vm", "z9.huge"),
                "cn-north-1",
                0,
                Month,
                1,
                1,
            ),
            "spec",
        ),
        (
            line(
                "x",
                ("compute", "gpu", "c6.large.2"),
                "cn-north-1",
                0,
                Month,
                1,
                1,
            ),
            "resource type",
        ),
        (line("x", VM, "mars-1", 0, Month, 1, 1), "region"),
        (
            line(
                "x",
                ("gpu_cloud", "vm", "c6.large.2"),
                "cn-north-1",
                0,
                Month,
                1,
                1,
            ),
            "service type",
        ),
        (
            pr::PeriodProductLine {
                zone: "cn-east-2a".into(),
                ..line("x", VM, "cn-north-1", 0, Month, 1, 1)
            },
            "zone",
        ),
    ] {
        let status = assert_refused(
            rate(&server, &token, vec![good.clone(), bad]).await,
            Code::NotFound,
            "PRODUCT_NOT_FOUND",
        );
        let info = tonic_types::StatusExt::get_error_details(&status)
            .error_info()
            .cloned()
            .unwrap();
        assert_eq!(info.metadata.get("line_id").map(String::as_str), Some("x"));
        assert_eq!(
            info.metadata.get("missing").map(String::as_str),
            Some(missing)
        );
    }
}

#[tokio::test]
async fn lines_breaking_the_rules_are_field_violations() {
    use pr::PeriodUnit::{Month, Year};
    let server = TestServer::start().await;
    let token = partner(&server).await;
    let cases = [
        (
            vec![line("a", VM, "cn-north-1", 0, Month, 10, 1)],
            "lines[0].period_count",
        ),
        // A VM is not sold by the day.
        (
            vec![line("a", VM, "cn-north-1", 0, pr::PeriodUnit::Day, 1, 1)],
            "lines[0].period_unit",
        ),
        (
            vec![line(" a", VM, "cn-north-1", 0, Month, 1, 1)],
            "lines[0].line_id",
        ),
        // Ids are 1 to 64 characters without control or invisible ones,
        // however short the check they take.
        (
            vec![line("", VM, "cn-north-1", 0, Month, 1, 1)],
            "lines[0].line_id",
        ),
        (
            vec![line(&"a".repeat(65), VM, "cn-north-1", 0, Month, 1, 1)],
            "lines[0].line_id",
        ),
        (
            vec![line("a\u{7}b", VM, "cn-north-1", 0, Month, 1, 1)],
            "lines[0].line_id",
        ),
        (
            vec![line("a\u{200b}", VM, "cn-north-1", 0, Month, 1, 1)],
            "lines[0].line_id",
        ),
        (
            vec![line("a", VM, "cn-north-1\t", 0, Month, 1, 1)],
            "lines[0].region",
        ),
        // Extremes are refused by the rules, never computed.
        (
            vec![line("a", SSD, "cn-north-1", i64::MAX, Month, i32::MAX, 100)],
            "lines[0].size",
        ),
        (
            vec![line(
                "a",
                SSD,
                "cn-north-1",
                i64::MIN,
                Month,
                i32::MIN,
                i32::MIN,
            )],
            "lines[0].size",
        ),
        (
            vec![line("a", VM, "cn-north-1", 0, Year, i32::MAX, i32::MAX)],
            "lines[0].quantity",
        ),
        (
            vec![line("a", VM, "cn-north-1", 0, Year, 4, 1)],
            "lines[0].period_count",
        ),
        (
            vec![line("a", VM, "cn-north-1", 0, Month, 1, 0)],
            "lines[0].quantity",
        ),
        (
            vec![line("a", VM, "cn-north-1", 0, Month, 1, 101)],
            "lines[0].quantity",
        ),
        (
            vec![line("a", VM, "cn-north-1", 8, Month, 1, 1)],
            "lines[0].size",
        ),
        (
            vec![line("a", SSD, "cn-north-1", 0, Month, 1, 1)],
            "lines[0].size",
        ),
        (
            vec![line("a", SSD, "cn-north-1", 15, Month, 1, 1)],
            "lines[0].size",
        ),
        (
            vec![line("a", SSD, "cn-north-1", 40_000, Month, 1, 1)],
            "lines[0].size",
        ),
        (
            vec![
                line("a", VM, "cn-north-1", 0, Month, 1, 1),
                line("a", SSD, "cn-north-1", 40, Month, 1, 1),
            ],
            "lines[1].line_id",
        ),
        (vec![], "lines"),
        (
            vec![pr::PeriodProductLine {
                period_unit: 0,
                ..line("a", VM, "cn-north-1", 0, Month, 1, 1)
            }],
            "lines[0].period_unit",
        ),
        (
            (0..101)
                .map(|i| line(&format!("l{i}"), VM, "cn-north-1", 0, Month, 1, 1))
                .collect(),
            "lines",
        ),
    ];
    for (lines, field) in cases {
        let status = assert_refused(
            rate(&server, &token, lines).await,
            Code::InvalidArgument,
            "FIELD_VIOLATION",
        );
        let fields = violated_fields(&status);
        assert!(fields.iter().any(|f| f == field), "{field}: {fields:?}");
    }
    // 100 lines are fine.
    let hundred = (0..100)
        .map(|i| line(&format!("l{i}"), VM, "cn-north-1", 0, Month, 1, 1))
        .collect();
    let rated = rate(&server, &token, hundred).await.unwrap();
    assert_eq!(rated.list_total, Some(cents(100 * 15_200)));
    // So are ids of 64 characters, and ids beyond ASCII, echoed as sent.
    for id in ["b".repeat(64), "行-1 ü".to_owned()] {
        let rated = rate(
            &server,
            &token,
            vec![line(&id, VM, "cn-north-1", 0, Month, 1, 1)],
        )
        .await
        .unwrap();
        assert_eq!(rated.lines[0].line_id, id);
    }
}
