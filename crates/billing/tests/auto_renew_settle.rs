//! An auto-renewal's payment is bound to its period inside the payment's
//! transaction (`settle`): it counts once, and never when the resource was
//! renewed otherwise, auto-renew was turned off or its renewals are used
//! up — whatever the job read before. Run on a migrated in-memory SQLite.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use partner_billing::orders::auto_renew::settle;
use partner_billing::orders::entity::{renewal_run, resource};
use partner_kernel::db::Db;
use partner_migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

const RESOURCE: &str = "res_0000000000000000000000000001";

fn at(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 5, d, 0, 0, 0).unwrap()
}

async fn db() -> Db {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    Migrator::up(db.conn(), None).await.unwrap();
    resource::Entity::insert(resource::ActiveModel {
        id: Set(RESOURCE.into()),
        order_id: Set("ord_1".into()),
        line_no: Set(0),
        customer_id: Set("cus_1".into()),
        partner_id: Set(Some("prt_1".into())),
        service_type: Set("compute".into()),
        resource_type: Set("vm".into()),
        spec: Set("c6.large.2".into()),
        region: Set("cn-north-1".into()),
        zone: Set(String::new()),
        size: Set(0),
        period_unit: Set("PERIOD_UNIT_MONTH".into()),
        status: Set("IN_USE".into()),
        anchor_day: Set(1),
        effective_at: Set(at(1) - Duration::days(30)),
        expires_at: Set(at(1)),
        created_at: Set(at(1) - Duration::days(30)),
        updated_at: Set(at(1) - Duration::days(30)),
        closed_at: Set(None),
        auto_renew_unit: Set(Some("PERIOD_UNIT_MONTH".into())),
        auto_renew_count: Set(1),
        auto_renew_times: Set(2),
        auto_renewed: Set(0),
        expiry_policy: Set("GRACE".into()),
        charging_mode: Set("PERIOD".into()),
        stage_until: Set(None),
        main_resource_id: Set(None),
        frozen_for: Set(None),
    })
    .exec_without_returning(db.conn())
    .await
    .unwrap();
    db
}

async fn run(db: &Db, key: &str, period_end: DateTime<Utc>) {
    renewal_run::Entity::insert(renewal_run::ActiveModel {
        key: Set(key.into()),
        resource_id: Set(RESOURCE.into()),
        period_end: Set(period_end),
        attempts: Set(1),
        next_attempt_at: Set(period_end - Duration::days(7)),
        lease_owner: Set(Some("pass".into())),
        lease_until: Set(None),
        order_id: Set(None),
        last_error: Set(String::new()),
        done_at: Set(None),
    })
    .exec_without_returning(db.conn())
    .await
    .unwrap();
}

/// `settle` in its own transaction, committed only when it succeeds.
async fn settled(db: &Db, key: &str) -> bool {
    let tx = db.begin_write().await.unwrap();
    let ok = settle(&tx, key, "ord_2", at(1) - Duration::days(6))
        .await
        .is_ok();
    if ok {
        tx.commit().await.unwrap();
    }
    ok
}

async fn renewed(db: &Db) -> i32 {
    resource::Entity::find_by_id(RESOURCE.to_owned())
        .one(db.conn())
        .await
        .unwrap()
        .unwrap()
        .auto_renewed
}

async fn set(db: &Db, column: resource::Column, value: sea_orm::Value) {
    resource::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(resource::Column::Id.eq(RESOURCE))
        .exec(db.conn())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_period_settles_once_and_only_while_it_is_still_the_one_due() {
    let db = db().await;
    let key = format!("{RESOURCE}@{}", at(1).timestamp());
    run(&db, &key, at(1)).await;
    // The period the job read: settled, done and counted.
    assert!(settled(&db, &key).await);
    assert_eq!(renewed(&db).await, 1);
    let done = renewal_run::Entity::find_by_id(key.clone())
        .one(db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(done.done_at.is_some());
    assert_eq!(done.order_id.as_deref(), Some("ord_2"));
    // Again (a second pass, a replayed payment): refused, nothing counted.
    assert!(!settled(&db, &key).await);
    assert_eq!(renewed(&db).await, 1);

    // Another period read at the old expiry, but the resource was renewed
    // otherwise meanwhile: refused.
    let stale = format!("{RESOURCE}@stale");
    run(&db, &stale, at(1)).await;
    set(&db, resource::Column::ExpiresAt, at(31).into()).await;
    assert!(!settled(&db, &stale).await);
    assert_eq!(renewed(&db).await, 1);

    // The period due now, with auto-renew turned off: refused; on again, it
    // settles; its renewals then used up (2 of 2), the next is refused.
    let due = format!("{RESOURCE}@{}", at(31).timestamp());
    run(&db, &due, at(31)).await;
    set(
        &db,
        resource::Column::AutoRenewUnit,
        Option::<String>::None.into(),
    )
    .await;
    assert!(!settled(&db, &due).await);
    set(
        &db,
        resource::Column::AutoRenewUnit,
        Some("PERIOD_UNIT_MONTH".to_owned()).into(),
    )
    .await;
    assert!(settled(&db, &due).await);
    assert_eq!(renewed(&db).await, 2);
    let last = format!("{RESOURCE}@last");
    run(&db, &last, at(31)).await;
    assert!(!settled(&db, &last).await);
    assert_eq!(renewed(&db).await, 2);
}
