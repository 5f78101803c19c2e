//! Permissions as types: what one permission declares, the catalog of every
//! declared permission, and permission sets.
//!
//! The kernel names no permission. Each domain crate declares its own
//! (`const USERS_CREATE: Permission = Permission::partner(…)`) beside the
//! access rules that use them, and the server assembles the catalog at start
//! ([`crate::access::AccessTable::assemble`]). The platform operator holds
//! every platform permission, a partner's master every partner permission,
//! and a sub-user the union of its roles' permissions.

use std::sync::Arc;

use crate::principal::Actor;

/// Whose permissions these are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermissionScope {
    /// Back-office permissions of the platform operator.
    Platform,
    /// Permissions inside one partner's tenant.
    Partner,
    /// What a customer may do with its own cloud account. Held by customers
    /// signed in themselves; a partner user acting as a customer holds the
    /// ones marked assumable.
    Customer,
}

/// A built-in job role of every partner. A partner permission names the job
/// roles it belongs to; the built-in `ADMIN` role holds every partner
/// permission and `READ_ONLY` every `.read` one without being named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobRole {
    /// Sells: reads the partner, its users, customers and prices.
    Sales,
    /// Handles money: funds, bills and the audit trail.
    Finance,
    /// Runs the account: users, access keys, reseller links.
    Operations,
}

/// One fine-grained permission, declared once by the domain that checks it.
/// Equality, order and hashing go by id.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    id: &'static str,
    scope: PermissionScope,
    domain: &'static str,
    description: &'static str,
    roles: &'static [JobRole],
    /// For customer permissions: whether a partner user acting as the
    /// customer holds it too (false for the customer's own consent, such as
    /// accepting an association).
    assumable: bool,
}

impl Permission {
    /// A back-office permission of the operator; its id starts `platform.`.
    pub const fn platform(
        id: &'static str,
        domain: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            id,
            scope: PermissionScope::Platform,
            domain,
            description,
            roles: &[],
            assumable: false,
        }
    }

    /// A permission inside a partner's tenant, held by the job roles named.
    pub const fn partner(
        id: &'static str,
        domain: &'static str,
        description: &'static str,
        roles: &'static [JobRole],
    ) -> Self {
        Self {
            id,
            scope: PermissionScope::Partner,
            domain,
            description,
            roles,
            assumable: false,
        }
    }

    /// A permission of a customer on its own account; its id starts `self.`.
    /// `assumable`: a partner user acting as the customer holds it too.
    pub const fn customer(
        id: &'static str,
        domain: &'static str,
        description: &'static str,
        assumable: bool,
    ) -> Self {
        Self {
            id,
            scope: PermissionScope::Customer,
            domain,
            description,
            roles: &[],
            assumable,
        }
    }

    /// The stable id, as shown to people and stored in roles.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// Who can hold it.
    pub fn scope(&self) -> PermissionScope {
        self.scope
    }

    /// The product domain that declares it, e.g. `accounts`.
    pub fn domain(&self) -> &'static str {
        self.domain
    }

    /// What it allows, in one sentence.
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// The built-in job roles that hold it.
    pub fn job_roles(&self) -> &'static [JobRole] {
        self.roles
    }

    /// True for permissions that only let their holder read. By convention
    /// (checked when the access table is assembled) exactly their ids end in
    /// `.read`; the `READ_ONLY` role is made of them.
    pub fn is_read(&self) -> bool {
        self.id.ends_with(".read")
    }

    /// Why this declaration is malformed, if it is: ids are dotted lower case,
    /// and start with `platform.` exactly when the scope is the platform.
    fn malformed(&self) -> Option<String> {
        let well_formed = self.id.contains('.')
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
        if !well_formed {
            return Some(format!(
                "permission id {:?} is not dotted lower case",
                self.id
            ));
        }
        if self.id.starts_with("platform.") != (self.scope == PermissionScope::Platform) {
            return Some(format!(
                "permission {:?}: `platform.` ids and platform scope go together",
                self.id
            ));
        }
        if self.id.starts_with("self.") != (self.scope == PermissionScope::Customer) {
            return Some(format!(
                "permission {:?}: `self.` ids and customer scope go together",
                self.id
            ));
        }
        if self.scope != PermissionScope::Partner && !self.roles.is_empty() {
            return Some(format!("permission {:?} names job roles", self.id));
        }
        None
    }
}

impl PartialEq for Permission {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Permission {}

impl std::hash::Hash for Permission {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for Permission {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Permission {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(other.id)
    }
}

/// A set of permissions, sorted by id and shared: principals carry one on
/// every request, so cloning costs a reference count and membership a binary
/// search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(Arc<[Permission]>);

impl PermissionSet {
    /// No permission.
    pub fn empty() -> PermissionSet {
        PermissionSet::default()
    }

    /// Whether `p` is in the set.
    pub fn contains(&self, p: &Permission) -> bool {
        self.0.binary_search(p).is_ok()
    }

    /// Everything in either set.
    pub fn union(&self, other: &PermissionSet) -> PermissionSet {
        self.iter().chain(other.iter()).collect()
    }

    /// Whether every permission of `self` is also in `other`.
    pub fn is_subset(&self, other: &PermissionSet) -> bool {
        self.iter().all(|p| other.contains(&p))
    }

    /// The first permission of `self` that `other` lacks, by id.
    pub fn first_missing_from(&self, other: &PermissionSet) -> Option<Permission> {
        self.iter().find(|p| !other.contains(p))
    }

    /// The permissions, by id.
    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut all: Vec<Permission> = iter.into_iter().collect();
        all.sort_unstable();
        all.dedup();
        PermissionSet(all.into())
    }
}

/// Every permission the assembled platform declares, in declaration order.
#[derive(Debug, Clone)]
pub struct Catalog {
    all: Arc<[Permission]>,
    platform: PermissionSet,
    partner: PermissionSet,
    customer: PermissionSet,
    assumed_customer: PermissionSet,
}

impl Catalog {
    /// The catalog of `permissions`; refuses duplicate or malformed ids.
    pub fn new(permissions: Vec<Permission>) -> Result<Catalog, String> {
        let mut seen = std::collections::HashSet::new();
        for p in &permissions {
            if let Some(why) = p.malformed() {
                return Err(why);
            }
            if !seen.insert(p.id) {
                return Err(format!("permission {:?} is declared twice", p.id));
            }
        }
        let of = |scope| {
            permissions
                .iter()
                .copied()
                .filter(|p| p.scope == scope)
                .collect()
        };
        Ok(Catalog {
            platform: of(PermissionScope::Platform),
            partner: of(PermissionScope::Partner),
            customer: of(PermissionScope::Customer),
            assumed_customer: permissions
                .iter()
                .copied()
                .filter(|p| p.scope == PermissionScope::Customer && p.assumable)
                .collect(),
            all: permissions.into(),
        })
    }

    /// Every permission, in declaration order.
    pub fn all(&self) -> &[Permission] {
        &self.all
    }

    /// The permission with this id.
    pub fn get(&self, id: &str) -> Option<Permission> {
        self.all.iter().copied().find(|p| p.id == id)
    }

    /// Every permission of `scope`.
    pub fn of_scope(&self, scope: PermissionScope) -> &PermissionSet {
        match scope {
            PermissionScope::Platform => &self.platform,
            PermissionScope::Partner => &self.partner,
            PermissionScope::Customer => &self.customer,
        }
    }

    /// What a partner user acting as a customer holds: the customer
    /// permissions marked assumable.
    pub fn assumed_customer_permissions(&self) -> PermissionSet {
        self.assumed_customer.clone()
    }

    /// The permissions this kind of actor always has: every platform
    /// permission for the operator, every partner permission for a master;
    /// every customer permission for a customer signed in itself (a partner
    /// user acting as one holds [`Self::assumed_customer_permissions`]);
    /// `None` for sub-users, whose permissions come from their roles.
    pub fn fixed_permissions(&self, actor: Actor) -> Option<PermissionSet> {
        match actor {
            Actor::Operator => Some(self.platform.clone()),
            Actor::PartnerMaster(_) => Some(self.partner.clone()),
            Actor::Customer(_) => Some(self.customer.clone()),
            Actor::PartnerUser(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PartnerId;

    const A_READ: Permission = Permission::partner("a.read", "t", "Read a.", &[JobRole::Sales]);
    const A_WRITE: Permission = Permission::partner("a.write", "t", "Write a.", &[]);
    const P_READ: Permission = Permission::platform("platform.a.read", "t", "Read every a.");

    #[test]
    fn sets_hold_exactly_what_was_put_in() {
        let set: PermissionSet = [A_WRITE, A_READ, A_WRITE].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&A_READ) && set.contains(&A_WRITE));
        assert!(!set.contains(&P_READ));
        let reads: PermissionSet = [A_READ].into_iter().collect();
        assert!(reads.is_subset(&set));
        assert!(!set.is_subset(&reads));
        assert_eq!(set.first_missing_from(&reads), Some(A_WRITE));
        assert!(PermissionSet::empty().is_subset(&reads));
        assert_eq!(reads.union(&set), set);
    }

    #[test]
    fn the_catalog_refuses_duplicates_and_malformed_ids() {
        assert!(Catalog::new(vec![A_READ, A_READ]).is_err());
        assert!(Catalog::new(vec![Permission::partner("Bad", "t", "", &[])]).is_err());
        assert!(Catalog::new(vec![Permission::partner("platform.x", "t", "", &[])]).is_err());
        assert!(Catalog::new(vec![Permission::platform("x.y", "t", "")]).is_err());
        assert!(Catalog::new(vec![Permission::customer("x.y", "t", "", true)]).is_err());
        assert!(Catalog::new(vec![Permission::partner("self.x", "t", "", &[])]).is_err());
        let catalog = Catalog::new(vec![A_READ, A_WRITE, P_READ]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.get("a.write"), Some(A_WRITE));
        assert_eq!(catalog.get("a"), None);
        assert_eq!(catalog.of_scope(PermissionScope::Partner).len(), 2);
    }

    #[test]
    fn operators_and_masters_hold_their_whole_scope() {
        let catalog = Catalog::new(vec![A_READ, A_WRITE, P_READ]).unwrap_or_else(|e| panic!("{e}"));
        let op = catalog
            .fixed_permissions(Actor::Operator)
            .unwrap_or_default();
        assert_eq!(op.iter().collect::<Vec<_>>(), [P_READ]);
        let master = catalog
            .fixed_permissions(Actor::PartnerMaster(PartnerId::generate()))
            .unwrap_or_default();
        assert_eq!(master.len(), 2);
        assert!(
            catalog
                .fixed_permissions(Actor::PartnerUser(PartnerId::generate()))
                .is_none()
        );
    }

    #[test]
    fn customers_hold_their_scope_and_assumers_only_the_assumable_part() {
        const OWN_READ: Permission = Permission::customer("self.a.read", "t", "Read own a.", true);
        const CONSENT: Permission = Permission::customer("self.a.accept", "t", "Accept.", false);
        let catalog =
            Catalog::new(vec![A_READ, OWN_READ, CONSENT, P_READ]).unwrap_or_else(|e| panic!("{e}"));
        let own = catalog
            .fixed_permissions(Actor::Customer(crate::ids::CustomerId::generate()))
            .unwrap_or_default();
        assert_eq!(own.iter().collect::<Vec<_>>(), [CONSENT, OWN_READ]);
        let assumed = catalog.assumed_customer_permissions();
        assert_eq!(assumed.iter().collect::<Vec<_>>(), [OWN_READ]);
        let master = catalog
            .fixed_permissions(Actor::PartnerMaster(PartnerId::generate()))
            .unwrap_or_default();
        assert!(!master.contains(&OWN_READ));
    }
}
