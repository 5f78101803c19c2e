//! Generated protobuf messages, gRPC servers and clients of the partner
//! platform, and the encoded descriptor set for server reflection.
//!
//! This crate holds no hand-written logic: everything here comes from `proto/`.

#![allow(clippy::all, missing_docs)]

/// Shared value types (`partner.type.v1`).
pub mod r#type {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/partner.r#type.v1.rs"));
    }
}

/// Identity and tokens (`partner.iam.v1`).
pub mod iam {
    pub mod v1 {
        tonic::include_proto!("partner.iam.v1");
    }
}

/// Partners and users (`partner.accounts.v1`).
pub mod accounts {
    pub mod v1 {
        tonic::include_proto!("partner.accounts.v1");
    }
}

/// Customers of partners (`partner.customers.v1`).
pub mod customers {
    pub mod v1 {
        tonic::include_proto!("partner.customers.v1");
    }
}

/// The event stream (`partner.events.v1`).
pub mod events {
    pub mod v1 {
        tonic::include_proto!("partner.events.v1");
    }
}

/// The catalog and prices (`partner.pricing.v1`).
pub mod pricing {
    pub mod v1 {
        tonic::include_proto!("partner.pricing.v1");
    }
}

/// Money, orders and bills (`partner.billing.v1`).
pub mod billing {
    pub mod v1 {
        tonic::include_proto!("partner.billing.v1");
    }
}

/// The encoded `FileDescriptorSet` of every proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("partner_descriptor");
