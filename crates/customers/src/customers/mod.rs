//! The customer lifecycle: check an identity, create (map and associate),
//! read, list, update; freezing lives in `freeze.rs`.

pub mod association;
pub mod federated;
pub mod freeze;
pub mod leaving;
pub mod model;
pub mod point_reads;
pub mod rules;
pub mod store;

pub use model::{AssociationType, Contact, Customer, CustomerType, FreezeMode, RealNameStatus};
pub use store::{Identity, ListFilter};

use partner_accounts::tenant::{Tenant, resolve_in};
use partner_accounts::users::UserState;
use partner_api::customers::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::permission::Permission;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::ConnectionTrait;

use crate::access as perm;
use crate::error::CustomersError;
use crate::service::{Customers, PageRequest};
use store::{NewCustomerRow, ProfileUpdate};

/// A customer to create, after parsing.
#[derive(Debug)]
pub struct NewCustomer {
    pub xaccount_type: String,
    pub xaccount_id: String,
    /// Generated when `None`.
    pub account_name: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    /// Without one the customer signs in only through the partner's SSO.
    pub password: Option<String>,
    pub country: String,
    pub association_type: AssociationType,
    pub reseller_id: Option<PartnerId>,
}

/// Changes to a customer's profile; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct CustomerPatch {
    pub labels: Option<Vec<String>>,
    pub account_managers: Option<Vec<UserId>>,
    pub contact: Option<Contact>,
}

impl Customers {
    /// Hashes a customer's password (waiting for a hashing slot).
    pub(crate) async fn hash_password(&self, password: String) -> Result<String, CustomersError> {
        self.accounts()
            .passwords()
            .hash(password)
            .await
            .map_err(|e| CustomersError::Accounts(partner_accounts::AccountsError::Hashing(e)))
    }

    /// For a customer-scoped caller: its own account, when `id` names it
    /// (any other id, or acting for a reseller, is `CUSTOMER_NOT_FOUND`);
    /// `None` for partner and operator callers, who go through their tenant.
    pub(crate) async fn own_account(
        &self,
        p: &Principal,
        id: CustomerId,
        reseller: Option<PartnerId>,
    ) -> Result<Option<Customer>, CustomersError> {
        let Some(own) = p.customer_id() else {
            return Ok(None);
        };
        p.require(perm::SELF_ACCOUNT_READ)?;
        if own != id || reseller.is_some() {
            return Err(CustomersError::CustomerNotFound);
        }
        self.reads
            .platform(id)
            .await?
            .ok_or(CustomersError::CustomerNotFound)
            .map(Some)
    }

    /// The tenant of a call holding `permission`, acting for `reseller` when named.
    pub(crate) async fn tenant(
        &self,
        p: &Principal,
        permission: Permission,
        reseller: Option<PartnerId>,
    ) -> Result<Tenant, CustomersError> {
        Ok(self
            .accounts()
            .resolve_tenant(p, permission, reseller)
            .await?)
    }

    /// Whether a customer uses the identity (platform-wide: identities are
    /// unique across partners, so the answer says nothing about whose).
    pub async fn check_identity(
        &self,
        p: &Principal,
        kind: Identity,
        value: &str,
    ) -> Result<bool, CustomersError> {
        p.require_partner(perm::CUSTOMERS_READ)?;
        Ok(store::platform_identity_used(self.db().conn(), kind, value).await?)
    }

    /// Creates a customer mapped to `(xaccount_type, xaccount_id)` and
    /// associated with the tenant. Cheap refusals (a replay, a platform that
    /// is not the caller's, a taken mapping or identity) come before the
    /// password is hashed; all are decided again in the write.
    pub async fn create_customer(
        &self,
        mut m: Mutation,
        cmd: NewCustomer,
    ) -> Result<pb::CreateCustomerResponse, CustomersError> {
        let tenant = self
            .tenant(&m.principal, perm::CUSTOMERS_CREATE, cmd.reseller_id)
            .await?;
        let own = m.principal.require_partner(perm::CUSTOMERS_CREATE)?;
        m.acting_for = tenant.acting_for();
        if let Some(replay) = write::replayed(self.db(), &m).await? {
            return Ok(replay);
        }
        let account_name = match cmd.account_name.clone() {
            Some(name) => name,
            None => rules::generated_account_name()
                .map_err(|e| KernelError::Corrupt(format!("no randomness: {e}")))?,
        };
        let row = NewCustomerRow {
            id: CustomerId::generate(),
            partner_id: tenant.partner_id,
            xaccount_type: cmd.xaccount_type,
            xaccount_id: cmd.xaccount_id,
            account_name,
            email: cmd.email,
            mobile: cmd.mobile,
            country: cmd.country,
            password_hash: None,
            association_type: cmd.association_type,
        };
        if let Err(refused) = admissible(self.db().conn(), own, tenant, &row).await {
            // This very request may have created it, committed since the first look.
            return match write::replayed(self.db(), &m).await? {
                Some(replay) => Ok(replay),
                None => Err(refused),
            };
        }
        let password_hash = match cmd.password {
            Some(password) => Some(self.hash_password(password).await?),
            None => None,
        };
        let row = NewCustomerRow {
            password_hash,
            ..row
        };
        let now = m.now;
        let reseller = cmd.reseller_id;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                // A link suspended since the first look stops the write.
                let tenant = resolve_in(tx, own, reseller).await?;
                admissible(tx, own, tenant, &row).await?;
                let customer = store::insert(tx, row, now).await?;
                let change = Change::of(Some(tenant.partner_id), customer.id)
                    .after(customer.audit_summary())
                    .announce("customer.created");
                let response = pb::CreateCustomerResponse {
                    customer: Some(customer.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }

    /// One customer of the tenant.
    pub async fn get_customer(
        &self,
        p: &Principal,
        id: CustomerId,
        reseller: Option<PartnerId>,
    ) -> Result<Customer, CustomersError> {
        if let Some(own) = self.own_account(p, id, reseller).await? {
            // Labels and account managers are the partner's notes, not the customer's.
            return Ok(Customer {
                labels: Vec::new(),
                account_managers: Vec::new(),
                ..own
            });
        }
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        self.reads
            .of_partner(tenant.partner_id, id)
            .await?
            .ok_or(CustomersError::CustomerNotFound)
    }

    /// Customers of the tenant by id: a result per id, in the order asked.
    pub async fn batch_get_customers(
        &self,
        p: &Principal,
        ids: Vec<CustomerId>,
        reseller: Option<PartnerId>,
    ) -> Result<Vec<pb::CustomerResult>, CustomersError> {
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        let found = store::read_customers_among(self.db(), tenant.partner_id, &ids).await?;
        let mut by_id: std::collections::HashMap<CustomerId, Customer> =
            found.into_iter().map(|c| (c.id, c)).collect();
        Ok(ids
            .into_iter()
            .map(|id| match by_id.remove(&id) {
                Some(c) => pb::CustomerResult {
                    customer_id: id.to_string(),
                    customer: Some(c.to_proto()),
                    error_reason: String::new(),
                },
                None => pb::CustomerResult {
                    customer_id: id.to_string(),
                    customer: None,
                    error_reason: CustomersError::CustomerNotFound.reason().to_owned(),
                },
            })
            .collect())
    }

    /// A page of the tenant's customers, oldest first.
    pub async fn list_customers(
        &self,
        p: &Principal,
        filter: ListFilter,
        reseller: Option<PartnerId>,
        page: PageRequest,
    ) -> Result<Page<pb::Customer>, CustomersError> {
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        let micros = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or(String::new(), |t| t.timestamp_micros().to_string())
        };
        let scope = PageScope::new("ListCustomers", &tenant.partner_id.to_string())
            .filter("prefix", filter.name_prefix.as_deref().unwrap_or(""))
            .filter(
                "real_name",
                filter.real_name_status.map_or("", RealNameStatus::as_str),
            )
            .filter(
                "association",
                filter.association_type.map_or("", AssociationType::as_str),
            )
            .filter("after", micros(filter.associated_after))
            .filter("before", micros(filter.associated_before))
            .filter("label", filter.label.as_deref().unwrap_or(""));
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows = store::list(
            self.db(),
            tenant.partner_id,
            &filter,
            after.as_deref(),
            page.size + 1,
        )
        .await?;
        let page = self.paginate(rows, page.size, &scope, |c| c.id.to_string());
        Ok(Page {
            items: page.items.iter().map(Customer::to_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// Changes a customer's labels, account managers or contact.
    pub async fn update_customer(
        &self,
        mut m: Mutation,
        id: CustomerId,
        patch: CustomerPatch,
        reseller: Option<PartnerId>,
    ) -> Result<pb::UpdateCustomerResponse, CustomersError> {
        let tenant = self
            .tenant(&m.principal, perm::CUSTOMERS_UPDATE, reseller)
            .await?;
        let own = m.principal.require_partner(perm::CUSTOMERS_UPDATE)?;
        m.acting_for = tenant.acting_for();
        let now = m.now;
        let accounts = self.accounts().clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let tenant = resolve_in(tx, own, reseller).await?;
                let partner = tenant.partner_id;
                let before = store::customer_of_for_update(tx, partner, id)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                if let Some(managers) = &patch.account_managers {
                    for user in managers {
                        let found = accounts.user_in_partner(tx, partner, *user).await;
                        match found {
                            Ok(u) if u.state == UserState::Active => {}
                            Ok(_) | Err(partner_accounts::AccountsError::UserNotFound) => {
                                return Err(CustomersError::AccountManagerNotFound);
                            }
                            Err(other) => return Err(other.into()),
                        }
                    }
                }
                let update = ProfileUpdate {
                    labels: patch.labels,
                    account_managers: patch
                        .account_managers
                        .map(|ids| ids.iter().map(ToString::to_string).collect()),
                    contact: patch.contact,
                };
                let after = store::update_profile(tx, partner, id, update, now)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                let change = Change::of(Some(partner), id)
                    .before(before.audit_summary())
                    .after(after.audit_summary())
                    .announce("customer.updated");
                let response = pb::UpdateCustomerResponse {
                    customer: Some(after.to_proto()),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await
    }
}

/// [`admissible`] for a customer of `partner` acting for itself (signing
/// up through its invitation).
pub(crate) async fn admissible_for(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    row: &NewCustomerRow,
) -> Result<(), CustomersError> {
    let tenant = Tenant {
        partner_id: partner,
        distributor_id: None,
    };
    admissible(conn, partner, tenant, row).await
}

/// Whether `row` may be created by a caller of partner `own` for `tenant`:
/// the sales platform is the tenant's (or, acting for a reseller, the
/// distributor's own), and neither the mapping nor an identity is taken.
async fn admissible(
    conn: &impl ConnectionTrait,
    own: PartnerId,
    tenant: Tenant,
    row: &NewCustomerRow,
) -> Result<(), CustomersError> {
    let platform = row.xaccount_type.as_str();
    // Inside a write transaction this holds off a concurrent binding of the
    // same xaccount until the insert commits (a no-op on a first look).
    store::lock_xaccount(conn, platform, &row.xaccount_id).await?;
    let owned = partner_accounts::Accounts::owns_sales_platform(conn, tenant.partner_id, platform)
        .await?
        || (own != tenant.partner_id
            && partner_accounts::Accounts::owns_sales_platform(conn, own, platform).await?);
    if !owned {
        return Err(CustomersError::SalesPlatformNotFound);
    }
    if store::platform_mapping_taken(conn, platform, &row.xaccount_id).await? {
        return Err(CustomersError::XaccountTaken);
    }
    let identities = [
        (
            Identity::AccountName,
            Some(&row.account_name),
            CustomersError::AccountNameTaken,
        ),
        (
            Identity::Email,
            row.email.as_ref(),
            CustomersError::EmailTaken,
        ),
        (
            Identity::Mobile,
            row.mobile.as_ref(),
            CustomersError::MobileTaken,
        ),
    ];
    for (kind, value, taken) in identities {
        if let Some(value) = value
            && store::platform_identity_used(conn, kind, value).await?
        {
            return Err(taken);
        }
    }
    Ok(())
}
