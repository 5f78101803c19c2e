//! The house's cross-cutting contracts, in one binary (each test binary is
//! linked against the whole server, so fewer binaries build faster and take
//! less disk): audit, idempotency, isolation, paging, validation, hostile
//! input, cheap refusals, the tenancy probe, migrations and the transport.

mod audit;
mod audit_completeness;
mod cheap_refusals;
mod hostile_input;
mod idempotency;
mod isolation;
mod migrations;
mod paging;
mod sqlite_build;
mod tenancy_probe;
mod transport;
mod validation;
