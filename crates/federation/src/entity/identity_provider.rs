//! A partner's registered SAML identity provider.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub partner_id: String,
    pub xaccount_type: String,
    pub entity_id: String,
    pub sso_url: String,
    pub xaccount_attribute: String,
    pub first_login_policy: String,
    pub require_signed_assertions: bool,
    /// JSON: `[{"der": base64, "sha256": hex, "retire_at": RFC 3339 | null}]`.
    pub certificates: String,
    /// JSON array of the URLs a sign-in may land on (prefixes; see `idps::service_urls`).
    pub service_urls: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
