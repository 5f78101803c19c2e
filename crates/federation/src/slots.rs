//! A bound on the SAML work that costs real CPU: verifying a response's
//! signatures (canonicalisation and RSA) and signing an AuthnRequest. Its
//! routes are public, so without a bound anyone could keep every runtime
//! thread signing and verifying, starving the gRPC calls sharing them. A
//! call waits a short while for a slot (a burst of genuine sign-ins queues),
//! then is refused with `SAML_BUSY` and a retry delay.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::FederationError;

/// How long a call waits for a slot before it is refused.
pub const SLOT_WAIT: Duration = Duration::from_secs(2);

/// Slots for SAML signing and verification, shared by every clone.
#[derive(Debug, Clone)]
pub struct CryptoSlots {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl CryptoSlots {
    /// `n` slots (at least one), each call waiting up to `wait` for one.
    pub fn new(n: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(n.max(1))),
            wait,
        }
    }

    /// Half the machine's cores, at least one: SAML never holds more than
    /// half the runtime's threads.
    pub fn default_count() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    /// A slot, held until the permit drops; `SamlBusy` when none frees up
    /// within the wait.
    pub async fn take(&self) -> Result<OwnedSemaphorePermit, FederationError> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Never closed; a closed semaphore would be busy forever too.
            Ok(Err(_)) | Err(_) => Err(FederationError::SamlBusy),
        }
    }
}

impl Default for CryptoSlots {
    fn default() -> Self {
        Self::new(Self::default_count(), SLOT_WAIT)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_waits_for_a_slot_then_is_refused() {
        let slots = CryptoSlots::new(1, Duration::from_millis(20));
        let held = slots.take().await.unwrap();
        assert!(matches!(slots.take().await, Err(FederationError::SamlBusy)));
        // Freed within the wait: the waiting call gets it.
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move { slots.take().await.map(drop) }
        });
        tokio::task::yield_now().await;
        drop(held);
        assert!(waiting.await.unwrap().is_ok());
        assert!(slots.take().await.is_ok());
    }

    #[test]
    fn there_is_always_a_slot() {
        assert!(CryptoSlots::default_count() >= 1);
        assert_eq!(CryptoSlots::new(0, SLOT_WAIT).slots.available_permits(), 1);
    }
}
