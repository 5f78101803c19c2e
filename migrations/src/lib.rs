//! Every table, index and constraint of the partner platform, up and down.
//! The same migrations run on SQLite and PostgreSQL; one migration per file,
//! named by date and sequence, never edited once released.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_server_secrets;
mod m20261125_000002_partners;
mod m20261125_000003_users;
mod m20261125_000004_signing_keys;
mod m20261125_000005_sessions;
mod m20261125_000006_idempotency_records;
mod m20261125_000007_audit_records;
mod m20261125_000008_outbox_events;
mod m20261125_000009_roles;
mod m20261125_000010_role_members;
mod m20261125_000011_access_keys;
mod m20261125_000012_auth_throttles;
mod m20261125_000013_partner_account_facts;
mod m20261125_000014_program_enrolments;
mod m20261125_000015_invitations;
mod m20261125_000016_reseller_links;
mod m20261125_000017_audit_acting_for;
mod m20261203_000018_collapsed_refusals;
mod m20261203_000019_sales_platform_ids;
mod m20261203_000020_customers;
mod m20261203_000021_event_positions;
mod m20261203_000022_customer_budgets;
mod m20261203_000023_customer_verifications;
mod m20261203_000024_partner_marketing_programme;
mod m20261203_000025_leads;
mod m20261203_000026_opportunities;
mod m20261203_000027_customer_principals;
mod m20261203_000028_association_invites;
mod m20261203_000029_federation;
mod m20261203_000030_used_assertions_by_entity;
mod m20261203_000031_saml_sign_in;
mod m20261203_000032_xaccount_links;
mod m20261203_000033_webhooks;
mod m20261203_000034_catalog_versions;
mod m20261203_000035_discounts;
mod m20261203_000036_quotes;
mod m20261203_000037_offer_links;
mod m20261203_000038_solutions;
mod m20261204_000039_ledger;
mod m20261204_000040_ledger_holds;
mod m20261204_000041_payment_agreements;
mod m20261204_000042_coupons;
mod m20261204_000043_orders;
mod m20261204_000044_order_line_failures;
mod m20261204_000045_renewal_lines;
mod m20261204_000046_refunds;
mod m20261204_000047_auto_renew;
mod m20261204_000048_expiry_policies;
mod m20261204_000049_child_resources;
mod m20261204_000050_price_adjustments;
mod m20261204_000051_change_orders;
mod m20261205_000052_sandbox_clock;
mod m20261205_000053_usage_records;
mod m20261205_000054_usage_settlement;
mod m20261205_000055_usage_accruals;
mod m20261206_000056_bill_adjustments;
mod m20261207_000057_auto_renew_key_lookup;
mod m20261207_000058_customer_name_pages;
mod m20261208_000059_budget_months;
mod m20261208_000060_webhook_secret_rotation;
mod m20261208_000061_auto_renew_key_pattern;
mod m20261208_000062_budget_months_backfill;

/// Applies the migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_server_secrets::Migration),
            Box::new(m20261125_000002_partners::Migration),
            Box::new(m20261125_000003_users::Migration),
            Box::new(m20261125_000004_signing_keys::Migration),
            Box::new(m20261125_000005_sessions::Migration),
            Box::new(m20261125_000006_idempotency_records::Migration),
            Box::new(m20261125_000007_audit_records::Migration),
            Box::new(m20261125_000008_outbox_events::Migration),
            Box::new(m20261125_000009_roles::Migration),
            Box::new(m20261125_000010_role_members::Migration),
            Box::new(m20261125_000011_access_keys::Migration),
            Box::new(m20261125_000012_auth_throttles::Migration),
            Box::new(m20261125_000013_partner_account_facts::Migration),
            Box::new(m20261125_000014_program_enrolments::Migration),
            Box::new(m20261125_000015_invitations::Migration),
            Box::new(m20261125_000016_reseller_links::Migration),
            Box::new(m20261125_000017_audit_acting_for::Migration),
            Box::new(m20261203_000018_collapsed_refusals::Migration),
            Box::new(m20261203_000019_sales_platform_ids::Migration),
            Box::new(m20261203_000020_customers::Migration),
            Box::new(m20261203_000021_event_positions::Migration),
            Box::new(m20261203_000022_customer_budgets::Migration),
            Box::new(m20261203_000023_customer_verifications::Migration),
            Box::new(m20261203_000024_partner_marketing_programme::Migration),
            Box::new(m20261203_000025_leads::Migration),
            Box::new(m20261203_000026_opportunities::Migration),
            Box::new(m20261203_000027_customer_principals::Migration),
            Box::new(m20261203_000028_association_invites::Migration),
            Box::new(m20261203_000029_federation::Migration),
            Box::new(m20261203_000030_used_assertions_by_entity::Migration),
            Box::new(m20261203_000031_saml_sign_in::Migration),
            Box::new(m20261203_000032_xaccount_links::Migration),
            Box::new(m20261203_000033_webhooks::Migration),
            Box::new(m20261203_000034_catalog_versions::Migration),
            Box::new(m20261203_000035_discounts::Migration),
            Box::new(m20261203_000036_quotes::Migration),
            Box::new(m20261203_000037_offer_links::Migration),
            Box::new(m20261203_000038_solutions::Migration),
            Box::new(m20261204_000039_ledger::Migration),
            Box::new(m20261204_000040_ledger_holds::Migration),
            Box::new(m20261204_000041_payment_agreements::Migration),
            Box::new(m20261204_000042_coupons::Migration),
            Box::new(m20261204_000043_orders::Migration),
            Box::new(m20261204_000044_order_line_failures::Migration),
            Box::new(m20261204_000045_renewal_lines::Migration),
            Box::new(m20261204_000046_refunds::Migration),
            Box::new(m20261204_000047_auto_renew::Migration),
            Box::new(m20261204_000048_expiry_policies::Migration),
            Box::new(m20261204_000049_child_resources::Migration),
            Box::new(m20261204_000050_price_adjustments::Migration),
            Box::new(m20261204_000051_change_orders::Migration),
            Box::new(m20261205_000052_sandbox_clock::Migration),
            Box::new(m20261205_000053_usage_records::Migration),
            Box::new(m20261205_000054_usage_settlement::Migration),
            Box::new(m20261205_000055_usage_accruals::Migration),
            Box::new(m20261206_000056_bill_adjustments::Migration),
            Box::new(m20261207_000057_auto_renew_key_lookup::Migration),
            Box::new(m20261207_000058_customer_name_pages::Migration),
            Box::new(m20261208_000059_budget_months::Migration),
            Box::new(m20261208_000060_webhook_secret_rotation::Migration),
            Box::new(m20261208_000061_auto_renew_key_pattern::Migration),
            Box::new(m20261208_000062_budget_months_backfill::Migration),
        ]
    }
}
