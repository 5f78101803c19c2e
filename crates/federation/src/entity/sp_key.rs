//! The platform's SAML signing key (slot `signing`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_sp_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: String,
    pub kid: String,
    /// PKCS#8 DER of the RSA key, sealed when a master key is configured.
    pub private_key: Vec<u8>,
    /// The self-signed certificate published in the SP metadata.
    pub certificate_der: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
