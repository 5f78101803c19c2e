//! What other domains do when a customer leaves its partner, inside the
//! disassociation's own write transaction: billing returns the money the
//! partner funded (so it can neither be stranded nor taken by the next
//! partner) and ends the partner's payment agreements with the customer,
//! or refuses while money is held for the customer's orders. The customers
//! domain cannot depend on billing, so billing registers itself here when
//! the server is built.

use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::Change;
use sea_orm::DatabaseTransaction;

use super::model::AssociationType;

/// Why a domain stops a customer leaving.
#[derive(Debug, thiserror::Error)]
pub enum LeavingError {
    /// Not now: `reason` is the refusal's ErrorInfo reason
    /// (FAILED_PRECONDITION), `message` says what to do.
    #[error("{message}")]
    Refused {
        reason: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

/// A domain's part of a customer leaving `partner`. A refusal rolls the
/// whole disassociation back; the changes it returns are audited with it.
pub trait CustomerLeaving: Send + Sync + std::fmt::Debug {
    fn customer_leaving<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        m: &'a Mutation,
        partner: PartnerId,
        customer: CustomerId,
        association: AssociationType,
    ) -> BoxFuture<'a, Result<Vec<Change>, LeavingError>>;
}

/// The registered [`CustomerLeaving`], shared by every clone of the service.
#[derive(Debug, Clone, Default)]
pub struct Leaving(Arc<OnceLock<Arc<dyn CustomerLeaving>>>);

impl Leaving {
    /// Registers `hook`; a second registration is refused (one billing).
    pub fn register(&self, hook: Arc<dyn CustomerLeaving>) -> Result<(), KernelError> {
        self.0
            .set(hook)
            .map_err(|_| KernelError::Corrupt("a customer-leaving hook is already set".into()))
    }

    pub(crate) fn hook(&self) -> Option<Arc<dyn CustomerLeaving>> {
        self.0.get().cloned()
    }
}
