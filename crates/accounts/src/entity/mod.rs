//! Tables owned by the accounts domain.

pub mod invitation;
pub mod partner;
pub mod program_enrolment;
pub mod reseller_link;
pub mod role;
pub mod role_member;
pub mod sales_platform_id;
pub mod user;
