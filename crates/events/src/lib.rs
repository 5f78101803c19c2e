//! The event stream (`partner.events.v1.EventService`): the outbox made
//! visible to partners. Events are written by every domain through the write
//! path and numbered by the kernel's sequencer; this crate reads them
//! by position, for the caller's own partner, and pushes them to the
//! partner's webhook endpoints ([`webhooks`]).

pub mod access;
pub mod grpc;
pub mod quota;
pub mod webhooks;

pub use grpc::EventsApi;
