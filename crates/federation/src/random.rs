//! Randomness and hex, as the federation domain uses them.

use partner_kernel::error::KernelError;

use crate::error::FederationError;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], FederationError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| {
        FederationError::Kernel(KernelError::Corrupt(format!("no randomness: {e}")))
    })?;
    Ok(out)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
