//! Checking a signed-in customer's current password (`ChangeOwnPassword`)
//! under the same throttle as its sign-in, so a stolen session cannot be
//! used to guess the password at leisure. The throttle is the gateway's,
//! and the gateway depends on this domain: it registers itself here when
//! the server is built.

use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};

use crate::error::CustomersError;

/// Checks a customer's password against its stored hash, charging the
/// attempt to the customer's sign-in throttle: refused while the customer is
/// locked (`TooManyFailedAttempts`), a wrong one counted as a failed sign-in
/// (`InvalidCredentials`).
pub trait PasswordGuard: Send + Sync + std::fmt::Debug {
    fn check_current<'a>(
        &'a self,
        customer: CustomerId,
        partner: Option<PartnerId>,
        password: String,
        hash: Option<String>,
    ) -> BoxFuture<'a, Result<(), CustomersError>>;
}

/// The registered [`PasswordGuard`], shared by every clone of the service.
#[derive(Debug, Clone, Default)]
pub struct Guard(Arc<OnceLock<Arc<dyn PasswordGuard>>>);

impl Guard {
    /// Registers `guard`; a second registration is refused (one gateway).
    pub fn register(&self, guard: Arc<dyn PasswordGuard>) -> Result<(), KernelError> {
        self.0
            .set(guard)
            .map_err(|_| KernelError::Corrupt("a password guard is already set".into()))
    }

    /// The guard; without one no current password is ever accepted (a server
    /// built without its gateway must not check passwords unthrottled).
    pub(crate) fn get(&self) -> Result<Arc<dyn PasswordGuard>, CustomersError> {
        self.0
            .get()
            .cloned()
            .ok_or_else(|| KernelError::Corrupt("no password guard is registered".into()).into())
    }
}
