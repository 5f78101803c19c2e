//! Tables owned by the kernel: idempotency records, audit records, outbox
//! events and server secrets.

pub mod audit_record;
pub mod idempotency_record;
pub mod outbox_event;
pub mod server_secret;
