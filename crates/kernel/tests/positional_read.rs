//! `Db::read_all` on PostgreSQL decodes whole rows by column position: every
//! kind of column it decodes comes back exactly as sea-orm's own decoding
//! (by name) reads it; an entity with another kind of column is read by name;
//! a select whose columns are not the entity's, in order, is refused.
//! Runs when `TEST_DATABASE_URL` names a PostgreSQL server (as the CI's
//! second pass does).

use chrono::{TimeZone, Utc};
use partner_kernel::db::Db;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

mod kinds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "positional_kinds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub note: Option<String>,
        pub count: i64,
        pub maybe_count: Option<i64>,
        pub small: i32,
        pub flag: bool,
        pub at: DateTimeUtc,
        pub maybe_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod with_json {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "positional_json")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub doc: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use kinds::{Column, Entity, Model};

/// A new database next to `TEST_DATABASE_URL`'s, dropped at the end.
struct Scratch {
    base: String,
    name: String,
}

impl Scratch {
    async fn new() -> Option<(Self, Db)> {
        let base = std::env::var("TEST_DATABASE_URL").ok()?;
        if !base.starts_with("postgres") {
            return None;
        }
        let name = format!("t_positional_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = admin.close().await;
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEST_DATABASE_URL names no database: {base}"),
        };
        let db = Db::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        db.conn()
            .execute_unprepared(
                "CREATE TABLE positional_kinds (id TEXT PRIMARY KEY, note TEXT, \
                 count BIGINT NOT NULL, maybe_count BIGINT, small INTEGER NOT NULL, \
                 flag BOOLEAN NOT NULL, at TIMESTAMPTZ NOT NULL, maybe_at TIMESTAMPTZ); \
                 CREATE TABLE positional_json (id TEXT PRIMARY KEY, doc JSON NOT NULL)",
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Some((Self { base, name }, db))
    }

    async fn drop_with(self, db: Db) {
        let _ = db.conn().clone().close().await;
        let admin = sea_orm::Database::connect(&self.base)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        admin
            .execute_unprepared(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn rows() -> Vec<Model> {
    let at = Utc.with_ymd_and_hms(2030, 1, 31, 15, 30, 0).unwrap();
    vec![
        Model {
            id: "a".into(),
            note: Some("abc ü, \"quoted\", 100%_".into()),
            count: i64::MAX,
            maybe_count: Some(-7),
            small: i32::MIN,
            flag: true,
            at: at + chrono::Duration::microseconds(123_456),
            maybe_at: Some(at),
        },
        Model {
            id: "b".into(),
            note: None,
            count: 0,
            maybe_count: None,
            small: 3,
            flag: false,
            at: at + chrono::Duration::seconds(1),
            maybe_at: None,
        },
    ]
}

#[tokio::test]
async fn rows_read_by_position_equal_rows_read_by_name() {
    let Some((scratch, db)) = Scratch::new().await else {
        return;
    };
    let written = rows();
    for row in &written {
        row.clone()
            .into_active_model()
            .reset_all()
            .insert(db.conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let first = &written[0];
    let selects = [
        Entity::find().order_by_asc(Column::Id),
        Entity::find().filter(Column::Id.eq("a")),
        Entity::find().filter(Column::At.gte(first.at)),
        Entity::find().filter(Column::Flag.eq(false)),
        Entity::find().filter(Column::Count.eq(i64::MAX)),
        Entity::find().filter(Column::MaybeAt.is_null()),
        Entity::find().order_by_desc(Column::Id).limit(1),
        Entity::find().filter(Column::Id.eq("none")),
    ];
    for select in selects {
        let by_name = select
            .clone()
            .all(db.conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let by_position = db
            .read_all(select.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(by_position, by_name);
    }
    let all = db
        .read_all(Entity::find().order_by_asc(Column::Id))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all, written, "every kind round-trips");
    assert_eq!(
        db.read_one(Entity::find().filter(Column::Id.eq("b")))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Some(written[1].clone())
    );

    // The same columns in another order read well by name, but a read by
    // position would put each value in another field: refused.
    let reordered = Entity::find()
        .select_only()
        .columns([
            Column::Note,
            Column::Id,
            Column::Count,
            Column::MaybeCount,
            Column::Small,
            Column::Flag,
            Column::At,
            Column::MaybeAt,
        ])
        .filter(Column::Id.eq("a"));
    assert_eq!(
        reordered.clone().all(db.conn()).await.ok(),
        Some(vec![first.clone()]),
        "by name, the order does not matter"
    );
    assert!(db.read_all(reordered).await.is_err());

    // A JSON column is not decoded by position: the entity is read by name.
    let doc = with_json::Model {
        id: "j".into(),
        doc: serde_json::json!({"labels": ["x"], "n": 1}),
    };
    doc.clone()
        .into_active_model()
        .reset_all()
        .insert(db.conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        db.read_all(with_json::Entity::find())
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        vec![doc]
    );
    scratch.drop_with(db).await;
}
