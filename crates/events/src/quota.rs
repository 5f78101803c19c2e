//! How many watch streams each partner has open: each holds a task, a
//! buffer and a database poll, so a partner opening them without end would
//! grow the server without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use partner_kernel::ids::PartnerId;

/// Open watch streams per partner.
#[derive(Debug, Default)]
pub struct WatchQuota {
    open: Mutex<HashMap<PartnerId, usize>>,
}

/// One open stream, counted until dropped (when its watcher ends).
#[derive(Debug)]
pub struct WatchSlot {
    quota: Arc<WatchQuota>,
    partner: PartnerId,
}

impl WatchQuota {
    /// A slot for one more stream of `partner`, unless it has `max` open.
    pub fn take(self: &Arc<Self>, partner: PartnerId, max: usize) -> Option<WatchSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(partner).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(WatchSlot {
            quota: self.clone(),
            partner,
        })
    }
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut open = self
            .quota
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.partner) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.partner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_partner_and_returned_on_drop() {
        let quota = Arc::new(WatchQuota::default());
        let (a, b) = (PartnerId::generate(), PartnerId::generate());
        let first = quota.take(a, 2);
        let second = quota.take(a, 2);
        assert!(first.is_some() && second.is_some());
        assert!(quota.take(a, 2).is_none());
        assert!(
            quota.take(b, 2).is_some(),
            "another partner's count is its own"
        );
        drop(first);
        assert!(quota.take(a, 2).is_some());
    }
}
