//! The federation service: its state.

use std::sync::Arc;

use partner_customers::Customers;
use partner_gateway::Gateway;
use partner_kernel::clock::SharedClock;
use partner_kernel::db::Db;
use partner_kernel::secrets::SecretKey;

use crate::sp::SpKeys;

/// How this platform names itself to identity providers.
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    /// Our SAML entity id (`{public_url}/saml/metadata`): the Audience.
    pub entity_id: String,
    /// Our ACS URL (`{public_url}/saml/acs`): the Destination and Recipient.
    pub acs_url: String,
    /// Clock difference tolerated with IdPs.
    pub skew: chrono::Duration,
}

impl ServiceProvider {
    /// The endpoints under the platform's public URL.
    pub fn under(public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/');
        Self {
            entity_id: format!("{base}/saml/metadata"),
            acs_url: format!("{base}/saml/acs"),
            skew: chrono::Duration::seconds(MAX_SKEW_SECS),
        }
    }

    /// The host of the entity id, for the certificate's name.
    fn host(&self) -> String {
        let rest = self
            .entity_id
            .split_once("://")
            .map_or(self.entity_id.as_str(), |(_, rest)| rest);
        rest.split(['/', ':'])
            .next()
            .unwrap_or("saml-sp")
            .to_owned()
    }
}

/// Clock difference tolerated with IdPs (RELIABILITY.md: at most 2 minutes).
pub const MAX_SKEW_SECS: i64 = 60;

/// The platform's public URL unless configured.
pub const DEFAULT_PUBLIC_URL: &str = "http://localhost:50051";

/// The federation domain service.
#[derive(Debug, Clone)]
pub struct Federation {
    pub(crate) db: Db,
    pub(crate) clock: SharedClock,
    pub(crate) customers: Customers,
    pub(crate) gateway: Gateway,
    pub(crate) sp: Arc<ServiceProvider>,
    pub(crate) sp_keys: SpKeys,
    /// MACs the IDs of our AuthnRequests (server secret `saml_requests`).
    pub(crate) request_key: SecretKey,
}

impl Federation {
    /// The service over `db`: `customers` maps xaccounts, `gateway` opens
    /// sessions, `request_key` MACs AuthnRequest IDs.
    pub fn new(
        db: Db,
        clock: SharedClock,
        customers: Customers,
        gateway: Gateway,
        sp: ServiceProvider,
        request_key: SecretKey,
    ) -> Self {
        let host = sp.host();
        let sp_keys = SpKeys::new(db.clone(), gateway.keys().sealer().clone(), host);
        Self {
            db,
            clock,
            customers,
            gateway,
            sp: Arc::new(sp),
            sp_keys,
            request_key,
        }
    }

    /// How this platform names itself to IdPs.
    pub fn service_provider(&self) -> &ServiceProvider {
        &self.sp
    }
}
