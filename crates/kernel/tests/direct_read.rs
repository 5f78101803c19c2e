//! Short reads on the calling task (`Db::read_one`, `Db::read_all`) against a
//! SQLite file: every kind of column the entities use comes back exactly as
//! the pool reads it, for rows the pool wrote, under every kind of bound
//! value.

use chrono::{TimeZone, Utc};
use partner_kernel::db::Db;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};

mod every_kind {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "every_kind")]
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
        pub bytes: Vec<u8>,
        pub doc: Json,
        pub maybe_doc: Option<Json>,
        pub uid: Uuid,
        pub maybe_uid: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use every_kind::{Column, Entity, Model};

struct File(std::path::PathBuf);

impl Drop for File {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

async fn file_db() -> (Db, File) {
    let path = std::env::temp_dir().join(format!("direct-read-{}.db", uuid::Uuid::new_v4()));
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db.conn()
        .execute_unprepared(
            "CREATE TABLE every_kind (id TEXT PRIMARY KEY, note TEXT, count BIGINT NOT NULL, \
             maybe_count BIGINT, small INTEGER NOT NULL, flag BOOLEAN NOT NULL, \
             at TEXT NOT NULL, maybe_at TEXT, bytes BLOB NOT NULL, doc TEXT NOT NULL, \
             maybe_doc TEXT, uid BLOB NOT NULL, maybe_uid BLOB)",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (db, File(path))
}

async fn insert(db: &Db, row: Model) {
    row.into_active_model()
        .reset_all()
        .insert(db.conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
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
            bytes: vec![0, 255, 7],
            doc: serde_json::json!({"labels": ["x", "y"], "n": 1.5}),
            maybe_doc: Some(serde_json::json!([1, 2])),
            uid: uuid::Uuid::new_v4(),
            maybe_uid: Some(uuid::Uuid::new_v4()),
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
            bytes: Vec::new(),
            doc: serde_json::json!(null),
            maybe_doc: None,
            uid: uuid::Uuid::nil(),
            maybe_uid: None,
        },
    ]
}

#[tokio::test]
async fn rows_read_directly_equal_rows_read_through_the_pool() {
    let (db, _file) = file_db().await;
    assert!(db.reads_directly(), "a SQLite file is read directly");
    let written = rows();
    for row in &written {
        insert(&db, row.clone()).await;
    }
    let first = &written[0];
    let selects = [
        Entity::find().order_by_asc(Column::Id),
        Entity::find().filter(Column::Id.eq("a")),
        Entity::find().filter(Column::At.gte(first.at)),
        Entity::find().filter(Column::At.gt(first.at)),
        Entity::find().filter(Column::Flag.eq(false)),
        Entity::find().filter(Column::Count.eq(i64::MAX)),
        Entity::find().filter(Column::Small.lt(0)),
        Entity::find().filter(Column::Uid.eq(first.uid)),
        Entity::find().filter(Column::Note.like("abc%")),
        Entity::find().filter(Column::Note.like("ABC%")),
        Entity::find().filter(Column::MaybeAt.is_null()),
        Entity::find().filter(Column::Bytes.eq(vec![0u8, 255, 7])),
        Entity::find().order_by_desc(Column::Id).limit(1),
    ];
    for select in selects {
        let shown = format!("{select:?}");
        let direct = db
            .read_all(select.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let pooled = select
            .clone()
            .all(db.conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(direct, pooled, "{shown}");
        let one = db
            .read_one(select.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one, pooled.first().cloned(), "{shown}");
    }
    // What was read is what was written.
    let all = db
        .read_all(Entity::find().order_by_asc(Column::Id))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all, written);
    // A case-sensitive LIKE, as on the pool and on PostgreSQL.
    let upper = db
        .read_all(Entity::find().filter(Column::Note.like("ABC%")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(upper.is_empty());
    assert_eq!(db.direct_reads_abandoned(), 0);
}

#[tokio::test]
async fn a_read_that_makes_sqlite_walk_many_rows_is_finished_on_the_pool() {
    let (db, _file) = file_db().await;
    db.conn()
        .execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) \
             INSERT INTO every_kind (id, count, small, flag, at, bytes, doc, uid) \
             SELECT printf('r%06d', i), i, i, 0, '2030-01-31T15:30:00+00:00', x'', '{}', \
             randomblob(16) FROM n",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // No index holds `small`: SQLite reads all 100,000 rows to find none.
    let none = Entity::find().filter(Column::Small.eq(-1));
    let read = db.read_all(none).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read.is_empty());
    assert_eq!(db.direct_reads_abandoned(), 1, "the walk was abandoned");
    // A read by key is not.
    let one = db
        .read_one(Entity::find().filter(Column::Id.eq("r054321")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(one.map(|m| m.small), Some(54_321));
    assert_eq!(db.direct_reads_abandoned(), 1);
    // The walk, finished on the pool, found what a direct read would have.
    let walked = db
        .read_all(Entity::find().filter(Column::Small.gte(99_990)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(walked.len(), 10);
    assert_eq!(db.direct_reads_abandoned(), 2);
}

#[tokio::test]
async fn closing_leaves_no_write_ahead_log_behind() {
    let (db, file) = file_db().await;
    insert(&db, rows().remove(0)).await;
    let read = db
        .read_all(Entity::find())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), 1);
    let mut wal = file.0.clone().into_os_string();
    wal.push("-wal");
    assert!(std::path::Path::new(&wal).exists(), "written through a log");
    db.close().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !std::path::Path::new(&wal).exists(),
        "the log was folded into the file and removed"
    );
}

#[tokio::test]
async fn a_write_committed_on_the_pool_is_seen_by_the_next_direct_read() {
    let (db, _file) = file_db().await;
    let mut row = rows().remove(1);
    for n in 0..20 {
        row.id = format!("r{n:02}");
        insert(&db, row.clone()).await;
        let seen = db
            .read_all(Entity::find())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seen.len(), n + 1);
    }
}

#[tokio::test]
async fn a_read_of_part_of_a_row_is_refused_not_misread() {
    let (db, _file) = file_db().await;
    let partial = Entity::find().select_only().column(Column::Id);
    match db.read_all(partial).await {
        Ok(rows) => panic!("a partial row was read: {rows:?}"),
        Err(err) => assert!(err.to_string().contains("columns"), "{err}"),
    }
}

#[tokio::test]
async fn a_database_in_memory_is_read_through_the_pool() {
    let db = Db::connect("sqlite::memory:")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!db.reads_directly());
}
