//! Tables owned by the customers domain.

pub mod customer;
pub mod customer_label;
