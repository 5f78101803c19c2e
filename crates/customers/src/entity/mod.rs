//! Tables owned by the customers domain.

pub mod association_invite;
pub mod customer;
pub mod customer_budget;
pub mod customer_budget_record;
pub mod customer_label;
pub mod customer_verification;
pub mod lead;
pub mod lead_follow_up;
pub mod opportunity;
pub mod outbound_call;
pub mod routing_rule;
pub mod xaccount_link;
