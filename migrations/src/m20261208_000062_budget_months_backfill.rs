use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Monthly budgets written before 000059 have no month, and a budget that
/// is used up is never consumed again to get one (orders are refused before
/// they are paid): each gets the month of its last change in UTC+8, the
/// default billing zone, so it turns over like any other. (Under another
/// configured zone a row changed within hours of a month's start may count
/// that change's neighbouring month, once.)
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let month = if manager.get_database_backend() == DatabaseBackend::Postgres {
            "to_char(updated_at AT TIME ZONE 'UTC' + interval '8 hours', 'YYYY-MM')"
        } else {
            "strftime('%Y-%m', updated_at, '+8 hours')"
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE customer_budgets SET used_month = {month} \
                 WHERE budget_type = 'MONTHLY' AND used_month IS NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // 000059's down drops the column.
        Ok(())
    }
}
