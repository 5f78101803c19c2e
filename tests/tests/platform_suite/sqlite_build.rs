//! The bundled SQLite is built with the options the server relies on
//! (`.cargo/config.toml`, decision 184). Without QPSG every single-row read
//! and every page (`LIMIT ?`) is planned again at each execution.

use partner_kernel::db::Db;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

#[tokio::test]
async fn sqlite_plans_once_and_keeps_no_memory_statistics() {
    let db = Db::connect("sqlite::memory:")
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA compile_options",
        ))
        .await
        .unwrap_or_else(|e| panic!("compile options: {e}"));
    let options: Vec<String> = rows
        .iter()
        .map(|r| {
            r.try_get_by_index::<String>(0)
                .unwrap_or_else(|e| panic!("option: {e}"))
        })
        .collect();
    for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        assert!(
            options.iter().any(|o| o == wanted),
            "{wanted} missing from {options:?}"
        );
    }
}
