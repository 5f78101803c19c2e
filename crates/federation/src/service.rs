//! The federation service: its state.

use partner_events::webhooks::Webhooks;
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
    /// The endpoints under the platform's public URL, which must be an
    /// absolute http(s) URL with a host and no credentials, query or
    /// fragment (IdPs compare our entity id and ACS URL byte for byte).
    pub fn under(public_url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(public_url).map_err(|e| {
            format!("the public URL `{public_url:.128}` is not an absolute URL: {e}")
        })?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host().is_none()
            || !parsed.username().is_empty()
            || parsed.password().is_some()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(format!(
                "the public URL `{public_url:.128}` must be http(s) with a host and no credentials, query or fragment"
            ));
        }
        let base = public_url.trim_end_matches('/');
        Ok(Self {
            entity_id: format!("{base}/saml/metadata"),
            acs_url: format!("{base}/saml/acs"),
            skew: chrono::Duration::seconds(MAX_SKEW_SECS),
        })
    }

    /// The host of the entity id, for the certificate's name.
    fn host(&self) -> String {
        url::Url::parse(&self.entity_id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "saml-sp".to_owned())
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
    /// Keeps IdPs' notification endpoints.
    pub(crate) webhooks: Webhooks,
    /// Bounds the signing and verifying the public routes ask for.
    pub(crate) slots: crate::slots::CryptoSlots,
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
        webhooks: Webhooks,
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
            webhooks,
            slots: crate::slots::CryptoSlots::default(),
        }
    }

    /// At most `n` SAML responses verified or requests signed at once (0:
    /// [`CryptoSlots::default_count`](crate::slots::CryptoSlots::default_count)).
    pub fn with_saml_concurrency(mut self, n: usize) -> Self {
        if n > 0 {
            self.slots = crate::slots::CryptoSlots::new(n, crate::slots::SLOT_WAIT);
        }
        self
    }

    /// Where notification URLs may point.
    pub fn webhook_policy(&self) -> partner_events::webhooks::TargetPolicy {
        self.webhooks.policy()
    }

    /// How this platform names itself to IdPs.
    pub fn service_provider(&self) -> &ServiceProvider {
        &self.sp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_must_name_where_idps_reach_us() {
        let sp = ServiceProvider::under("https://partners.example.com/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sp.entity_id, "https://partners.example.com/saml/metadata");
        assert_eq!(sp.acs_url, "https://partners.example.com/saml/acs");
        for bad in [
            "",
            "partners.example.com",
            "ftp://partners.example.com",
            "https://user:pw@partners.example.com",
            "https://partners.example.com/?a=1",
            "https://partners.example.com/#x",
        ] {
            assert!(ServiceProvider::under(bad).is_err(), "{bad}");
        }
    }
}
