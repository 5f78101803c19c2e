//! The tonic services of the identity domain (`partner.iam.v1`): translate
//! the request, let the domain authorize and act, translate back. One file
//! per service; one API type serves them all.

mod access_key;
mod auth;
mod signing_key;

use partner_kernel::mutation::Calls;

use crate::access_keys::AccessKeys;
use crate::service::Gateway;
use crate::signing_keys::SigningKeys;

/// Serves `AuthService`, `AccessKeyService` and `SigningKeyService`.
#[derive(Debug, Clone)]
pub struct IamApi {
    gateway: Gateway,
    access_keys: AccessKeys,
    signing_keys: SigningKeys,
    calls: Calls,
}

impl IamApi {
    /// The API over the gateway and its verbs; `calls` starts its mutations.
    pub fn new(
        gateway: Gateway,
        access_keys: AccessKeys,
        signing_keys: SigningKeys,
        calls: Calls,
    ) -> Self {
        Self {
            gateway,
            access_keys,
            signing_keys,
            calls,
        }
    }
}
