//! Who holds a session and its tokens: a user (of the operator or of a
//! partner) or a customer signed in itself. Stored and signed as the holder's
//! id; the `usr_` / `cus_` prefix tells them apart.

use std::fmt;

use partner_kernel::ids::{CustomerId, IdError, UserId};

/// The holder of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    User(UserId),
    Customer(CustomerId),
}

impl Holder {
    /// Parses a `usr_…` or `cus_…` id.
    pub fn parse(raw: &str) -> Result<Holder, IdError> {
        if raw.starts_with("cus_") {
            CustomerId::parse(raw).map(Holder::Customer)
        } else {
            UserId::parse(raw).map(Holder::User)
        }
    }

    /// The user, when a user holds it.
    pub fn user(self) -> Option<UserId> {
        match self {
            Holder::User(u) => Some(u),
            Holder::Customer(_) => None,
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::User(u) => u.fmt(f),
            Holder::Customer(c) => c.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_round_trip_by_prefix() {
        let u = Holder::User(UserId::generate());
        let c = Holder::Customer(CustomerId::generate());
        assert_eq!(Holder::parse(&u.to_string()).ok(), Some(u));
        assert_eq!(Holder::parse(&c.to_string()).ok(), Some(c));
        assert!(Holder::parse("cus_x").is_err());
        assert!(Holder::parse("prt_0190a0b0c0d0e0f00000000000000000").is_err());
    }
}
