//! Sign-in and access control through the real server, in one binary (each
//! test binary is linked against the whole server, so fewer binaries build
//! faster and take less disk): passwords, tokens, access keys, key rotation,
//! throttling, users, roles, outranking, partners, programs, resellers, the
//! partner lifecycle and secrets at rest.

mod access_keys;
mod access_table;
mod auth;
mod key_rotation;
mod lifecycle;
mod outranking;
mod partners;
mod program_eligibility;
mod program_validation;
mod programs;
mod read_only;
mod resellers;
mod roles;
mod secrets_at_rest;
mod sign_in_throttling;
mod tokens;
mod users;
