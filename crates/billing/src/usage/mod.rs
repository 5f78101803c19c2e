//! Usage of on-demand resources: records the cloud services report, each
//! stored once under its id and rated at the list prices in force when it
//! was used (`UsageService`).

pub mod entity;
pub mod grpc;
pub mod report;
pub mod settlement;
