//! Access rules as types. Every RPC declares who may call it and whether it
//! changes anything; each domain crate declares the rules of its own RPCs and
//! the permissions they name ([`DomainAccess`]), and the server assembles one
//! [`AccessTable`] from all of them at start.
//!
//! The authentication layer checks the table before any handler runs (a
//! method missing from it is refused), the tests enumerate it against the
//! service descriptors (a method missing here, or listed here but not served,
//! fails the suite), and the `READ_ONLY` and audit-completeness tests are
//! generated from it. Handlers still decide tenancy (which partner's data a
//! caller may touch) and pick between the platform and the partner permission
//! of a shared RPC; the table is the gate in front of them.

use std::collections::HashMap;

use crate::permission::{Catalog, Permission};
use crate::principal::Principal;

/// Who may call an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token: signing in and public keys.
    Public,
    /// Any authenticated caller; the RPC acts only on the caller's own session
    /// or reads a public catalog.
    Authenticated,
    /// Callers holding at least one of these permissions.
    AnyOf(&'static [Permission]),
}

/// What an RPC does to the platform's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Changes state: takes a `request_id`, is idempotent and writes an audit
    /// record in the same transaction.
    Write,
    /// Opens, renews or closes the caller's own session. These change session
    /// rows only and are not audited as mutations (failed attempts are).
    SignIn,
}

/// The declaration of one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Full method name without the leading slash, e.g.
    /// `partner.accounts.v1.PartnerService/GetPartner`.
    pub method: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does.
    pub effect: Effect,
}

/// A rule, for the `const` tables of the domains.
pub const fn rule(method: &'static str, access: Access, effect: Effect) -> Rule {
    Rule {
        method,
        access,
        effect,
    }
}

impl Rule {
    /// Whether `principal` passes this gate. Public rules admit everyone.
    pub fn admits(&self, principal: &Principal) -> bool {
        match self.access {
            Access::Public | Access::Authenticated => true,
            Access::AnyOf(permissions) => permissions.iter().any(|p| principal.holds(p)),
        }
    }

    /// The permission to name when refusing: the first one listed.
    pub fn missing_permission(&self) -> Option<Permission> {
        match self.access {
            Access::AnyOf(permissions) => permissions.first().copied(),
            Access::Public | Access::Authenticated => None,
        }
    }

    /// The permissions the rule names.
    fn permissions(&self) -> &'static [Permission] {
        match self.access {
            Access::AnyOf(permissions) => permissions,
            Access::Public | Access::Authenticated => &[],
        }
    }
}

/// What one domain crate declares: its permissions and the rules of its RPCs.
#[derive(Debug, Clone, Copy)]
pub struct DomainAccess {
    /// The domain, e.g. `accounts`.
    pub domain: &'static str,
    /// Every permission it declares.
    pub permissions: &'static [Permission],
    /// One rule per RPC it serves.
    pub rules: &'static [Rule],
    /// Who may read the events it announces, by event-type prefix.
    pub events: &'static [EventReaders],
}

/// The holders of `permission` may read the events whose type starts with
/// `prefix` (e.g. `customer.`): an event says as much as a read of its
/// resource would. Events of a prefix no domain declares are read by nobody.
#[derive(Debug, Clone, Copy)]
pub struct EventReaders {
    pub prefix: &'static str,
    pub permission: Permission,
}

/// [`EventReaders`] in a `const` table.
pub const fn events(prefix: &'static str, permission: Permission) -> EventReaders {
    EventReaders { prefix, permission }
}

/// Every rule and permission of the platform, assembled at start.
#[derive(Debug, Clone)]
pub struct AccessTable {
    rules: Vec<Rule>,
    by_method: HashMap<&'static str, usize>,
    catalog: Catalog,
    events: Vec<EventReaders>,
}

impl AccessTable {
    /// Assembles the domains' declarations, refusing a table that could not
    /// be enforced: a method declared twice, a permission declared twice or
    /// malformed, a rule naming a permission nobody declared, a permission
    /// guarding nothing, a read gated by a permission that writes (or a write
    /// by a `.read` one — `READ_ONLY` must never pass a write's gate), or a
    /// domain naming another domain's permission in its declarations.
    pub fn assemble(domains: &[DomainAccess]) -> Result<AccessTable, String> {
        let mut permissions = Vec::new();
        for d in domains {
            for p in d.permissions {
                if p.domain() != d.domain {
                    return Err(format!(
                        "{} declares {:?} of domain {}",
                        d.domain,
                        p.id(),
                        p.domain()
                    ));
                }
                permissions.push(*p);
            }
        }
        let catalog = Catalog::new(permissions)?;
        let mut rules = Vec::new();
        let mut by_method = HashMap::new();
        for r in domains.iter().flat_map(|d| d.rules.iter()) {
            if by_method.insert(r.method, rules.len()).is_some() {
                return Err(format!("{} is declared twice", r.method));
            }
            if matches!(r.access, Access::AnyOf([])) {
                return Err(format!("{} names no permission", r.method));
            }
            for p in r.permissions() {
                if catalog.get(p.id()) != Some(*p) {
                    return Err(format!("{} names undeclared {:?}", r.method, p.id()));
                }
                if p.is_read() != (r.effect == Effect::Read) {
                    return Err(format!(
                        "{} ({:?}) is gated by {:?}",
                        r.method,
                        r.effect,
                        p.id()
                    ));
                }
            }
            rules.push(*r);
        }
        if let Some(idle) = catalog
            .all()
            .iter()
            .find(|p| !rules.iter().any(|r| r.permissions().contains(p)))
        {
            return Err(format!("{:?} guards no RPC", idle.id()));
        }
        let mut events: Vec<EventReaders> = Vec::new();
        for e in domains.iter().flat_map(|d| d.events.iter()) {
            let well_formed = e.prefix.ends_with('.')
                && e.prefix.len() > 1
                && e.prefix[..e.prefix.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_');
            if !well_formed {
                return Err(format!("event prefix {:?} is not `name.`", e.prefix));
            }
            if events.iter().any(|x| x.prefix == e.prefix) {
                return Err(format!("event prefix {:?} is declared twice", e.prefix));
            }
            if catalog.get(e.permission.id()) != Some(e.permission) || !e.permission.is_read() {
                return Err(format!(
                    "events {:?} are read by {:?}, not a declared `.read` permission",
                    e.prefix,
                    e.permission.id()
                ));
            }
            events.push(*e);
        }
        Ok(AccessTable {
            rules,
            by_method,
            catalog,
            events,
        })
    }

    /// The event-type prefixes the holder of `held` may read.
    pub fn readable_event_prefixes(
        &self,
        held: &crate::permission::PermissionSet,
    ) -> Vec<&'static str> {
        self.events
            .iter()
            .filter(|e| held.contains(&e.permission))
            .map(|e| e.prefix)
            .collect()
    }

    /// The rule of a request path (`/package.Service/Method`) or full method name.
    pub fn rule_for(&self, path: &str) -> Option<&Rule> {
        let method = path.strip_prefix('/').unwrap_or(path);
        self.by_method.get(method).map(|i| &self.rules[*i])
    }

    /// Every rule, domain by domain in declaration order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every permission.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permission::JobRole;
    use Access::{AnyOf, Public};
    use Effect::{Read, Write};

    const READ: Permission =
        Permission::partner("things.read", "things", "Read.", &[JobRole::Sales]);
    const MAKE: Permission = Permission::partner("things.create", "things", "Make.", &[]);
    const PERMISSIONS: &[Permission] = &[READ, MAKE];
    const RULES: &[Rule] = &[
        rule("t.v1.ThingService/GetThing", AnyOf(&[READ]), Read),
        rule("t.v1.ThingService/CreateThing", AnyOf(&[MAKE]), Write),
        rule("t.v1.ThingService/Hello", Public, Read),
    ];
    const THINGS: DomainAccess = DomainAccess {
        domain: "things",
        permissions: PERMISSIONS,
        rules: RULES,
        events: &[events("thing.", READ)],
    };

    fn refused(domains: &[DomainAccess]) -> String {
        match AccessTable::assemble(domains) {
            Ok(_) => panic!("assembled"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_sound_table_assembles_and_answers_by_path_or_name() {
        let table = AccessTable::assemble(&[THINGS]).unwrap_or_else(|e| panic!("{e}"));
        let r = table.rule_for("/t.v1.ThingService/Hello");
        assert_eq!(r.map(|r| r.access), Some(Public));
        assert!(table.rule_for("t.v1.ThingService/GetThing").is_some());
        assert!(table.rule_for("/t.v1.ThingService/GetThingX").is_none());
        assert!(table.rule_for("").is_none());
        assert_eq!(table.rules().len(), 3);
        assert_eq!(table.catalog().all().len(), 2);
    }

    #[test]
    fn unsound_tables_are_refused() {
        // The same domain twice: every method and permission twice.
        assert!(refused(&[THINGS, THINGS]).contains("twice"));
        const WRITE_BY_READ: &[Rule] = &[rule("t.v1.S/Del", AnyOf(&[READ]), Write)];
        let e = refused(&[DomainAccess {
            domain: "things",
            permissions: &[READ],
            rules: WRITE_BY_READ,
            events: &[],
        }]);
        assert!(e.contains("gated"), "{e}");
        const UNDECLARED: &[Rule] = &[rule("t.v1.S/Make", AnyOf(&[MAKE]), Write)];
        let e = refused(&[DomainAccess {
            domain: "things",
            permissions: &[],
            rules: UNDECLARED,
            events: &[],
        }]);
        assert!(e.contains("undeclared"), "{e}");
        let e = refused(&[DomainAccess {
            domain: "things",
            permissions: PERMISSIONS,
            rules: &[],
            events: &[],
        }]);
        assert!(e.contains("guards no RPC"), "{e}");
        let e = refused(&[DomainAccess {
            domain: "other",
            permissions: PERMISSIONS,
            rules: RULES,
            events: &[],
        }]);
        assert!(e.contains("of domain"), "{e}");
        const BY_WRITER: &[EventReaders] = &[events("thing.", MAKE)];
        let e = refused(&[DomainAccess {
            events: BY_WRITER,
            ..THINGS
        }]);
        assert!(e.contains("not a declared"), "{e}");
        const MALFORMED: &[EventReaders] = &[events("Thing", READ)];
        let e = refused(&[DomainAccess {
            events: MALFORMED,
            ..THINGS
        }]);
        assert!(e.contains("is not"), "{e}");
    }

    #[test]
    fn events_are_readable_by_their_declared_permission_only() {
        let table = AccessTable::assemble(&[THINGS]).unwrap_or_else(|e| panic!("{e}"));
        let reader: crate::permission::PermissionSet = [READ].into_iter().collect();
        let maker: crate::permission::PermissionSet = [MAKE].into_iter().collect();
        assert_eq!(table.readable_event_prefixes(&reader), ["thing."]);
        assert!(table.readable_event_prefixes(&maker).is_empty());
    }
}
