//! Queries on `customers` and `customer_labels`. Every query on tenant data
//! starts from [`customers_of`]; the platform-wide ones (the mapping and the
//! identities are unique across the platform) say so in their names. Updates
//! filter on partner *and* id.

use chrono::{DateTime, Utc};
use partner_kernel::db::Db;
use partner_kernel::ids::{CustomerId, PartnerId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set, SqlErr,
};

use super::model::{
    AssociationType, Contact, Customer, CustomerType, FreezeMode, RealNameStatus, store_list,
};
use crate::entity::{customer, customer_label, xaccount_link};
use crate::error::CustomersError;

/// The customers associated with one partner.
pub fn customers_of(partner: PartnerId) -> Select<customer::Entity> {
    customer::Entity::find().filter(customer::Column::PartnerId.eq(partner.to_string()))
}

fn convert(rows: Vec<customer::Model>) -> Result<Vec<Customer>, CustomersError> {
    Ok(rows
        .into_iter()
        .map(Customer::from_row)
        .collect::<Result<_, _>>()?)
}

/// One customer of one partner.
pub async fn customer_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
) -> Result<Option<Customer>, CustomersError> {
    one_of(partner, id)
        .one(conn)
        .await?
        .map(Customer::from_row)
        .transpose()
        .map_err(CustomersError::from)
}

/// One customer of one partner, read outside any transaction
/// ([`Db::read_one`]).
pub async fn read_customer_of(
    db: &Db,
    partner: PartnerId,
    id: CustomerId,
) -> Result<Option<Customer>, CustomersError> {
    db.read_one(one_of(partner, id))
        .await?
        .map(Customer::from_row)
        .transpose()
        .map_err(CustomersError::from)
}

fn one_of(partner: PartnerId, id: CustomerId) -> Select<customer::Entity> {
    customers_of(partner).filter(customer::Column::Id.eq(id.to_string()))
}

/// One customer of one partner, locked until the transaction ends
/// (PostgreSQL; SQLite's single writer already serialises).
pub async fn customer_of_for_update(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
) -> Result<Option<Customer>, CustomersError> {
    customers_of(partner)
        .filter(customer::Column::Id.eq(id.to_string()))
        .lock_exclusive()
        .one(conn)
        .await?
        .map(Customer::from_row)
        .transpose()
        .map_err(CustomersError::from)
}

/// The customers of one partner among `ids`, in no particular order.
pub async fn customers_among(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    ids: &[CustomerId],
) -> Result<Vec<Customer>, CustomersError> {
    convert(among(partner, ids).all(conn).await?)
}

/// [`customers_among`] read outside any transaction ([`Db::read_all`];
/// a batch is at most 100 ids).
pub async fn read_customers_among(
    db: &Db,
    partner: PartnerId,
    ids: &[CustomerId],
) -> Result<Vec<Customer>, CustomersError> {
    convert(db.read_all(among(partner, ids)).await?)
}

fn among(partner: PartnerId, ids: &[CustomerId]) -> Select<customer::Entity> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    customers_of(partner).filter(customer::Column::Id.is_in(ids))
}

/// What a listing is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub name_prefix: Option<String>,
    pub real_name_status: Option<RealNameStatus>,
    pub association_type: Option<AssociationType>,
    pub associated_after: Option<DateTime<Utc>>,
    pub associated_before: Option<DateTime<Utc>>,
    pub label: Option<String>,
}

/// A page of one partner's customers after `after`, oldest first.
pub async fn list(
    db: &Db,
    partner: PartnerId,
    filter: &ListFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Customer>, CustomersError> {
    let sqlite = db.conn().get_database_backend() == sea_orm::DbBackend::Sqlite;
    let mut rows = db
        .read_all(page_select(sqlite, partner, filter, after, limit))
        .await?;
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    convert(rows)
}

fn page_select(
    sqlite: bool,
    partner: PartnerId,
    filter: &ListFilter,
    after: Option<&str>,
    limit: u64,
) -> Select<customer::Entity> {
    let mut q = customers_of(partner);
    if let Some(prefix) = &filter.name_prefix {
        // Account names are ASCII (below 0x7f) and compared bytewise (the
        // column is `COLLATE "C"` on PostgreSQL, BINARY on SQLite), so a
        // prefix is a range the name index answers.
        q = q
            .filter(customer::Column::AccountName.gte(prefix.as_str()))
            .filter(customer::Column::AccountName.lt(format!("{prefix}\u{7f}")));
    }
    if let Some(s) = filter.real_name_status {
        q = q.filter(customer::Column::RealNameStatus.eq(s.as_str()));
    }
    if let Some(t) = filter.association_type {
        q = q.filter(customer::Column::AssociationType.eq(t.as_str()));
    }
    if let Some(at) = filter.associated_after {
        q = q.filter(customer::Column::AssociatedAt.gte(at));
    }
    if let Some(at) = filter.associated_before {
        q = q.filter(customer::Column::AssociatedAt.lt(at));
    }
    if let Some(label) = &filter.label {
        q = q.filter(
            customer::Column::Id.in_subquery(
                Query::select()
                    .column(customer_label::Column::CustomerId)
                    .from(customer_label::Entity)
                    .and_where(customer_label::Column::PartnerId.eq(partner.to_string()))
                    .and_where(customer_label::Column::Label.eq(label.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(after) = after {
        q = q.filter(customer::Column::Id.gt(after));
    }
    // Every customer a name prefix matches is put in id order before the
    // page is cut. On SQLite, where reading a whole row costs more than
    // sorting, the ids are sorted from the name index (which holds them,
    // migration 000058) and only the page's rows are read. PostgreSQL reads
    // the matching rows faster than it joins the ids back to them (0.1 ms
    // against 0.45 ms for a prefix of 100 among 1,000,000), so it sorts the
    // rows. The ids are SQLite's own row numbers, which every index entry
    // holds: the page's rows are then found in one search each rather than
    // two (the id index, then the row), 24 µs less on a page of 50. The
    // outer query still keeps to the partner, with `+` so that the planner
    // does not take the partner's id index to save the final sort of the
    // page and test every one of the partner's rows against the page instead
    // (what it does when the database has no statistics).
    // The page's rows come back in row-number order, and are put in id order
    // by the caller (see [`list`]) rather than copied into a sorter by SQLite.
    if filter.name_prefix.is_some() && sqlite {
        let rowid = || Expr::col((customer::Entity, Alias::new("rowid")));
        customer::Entity::find()
            .filter(Expr::cust_with_values(
                r#"+"customers"."partner_id" = ?"#,
                [partner.to_string()],
            ))
            .filter(
                rowid().in_subquery(
                    q.select_only()
                        .column_as(rowid(), "rowid")
                        .order_by_asc(customer::Column::Id)
                        .limit(limit)
                        .into_query(),
                ),
            )
    } else {
        q.limit(limit).order_by_asc(customer::Column::Id)
    }
}

/// Whether the sales-platform account is mapped to a customer (platform-wide:
/// the mapping is unique).
pub async fn platform_mapping_taken(
    conn: &impl ConnectionTrait,
    xaccount_type: &str,
    xaccount_id: &str,
) -> Result<bool, DbErr> {
    Ok(customer::Entity::find()
        .filter(customer::Column::XaccountType.eq(xaccount_type))
        .filter(customer::Column::XaccountId.eq(xaccount_id))
        .count(conn)
        .await?
        > 0
        || link_of(conn, xaccount_type, xaccount_id).await?.is_some())
}

/// Makes writers of one xaccount wait for each other until their
/// transactions end: its mapping lives in two tables (customers' own
/// mappings, bound links), so no one index serialises them.
pub async fn lock_xaccount(
    conn: &impl ConnectionTrait,
    xaccount_type: &str,
    xaccount_id: &str,
) -> Result<(), DbErr> {
    partner_kernel::db::lock_key(conn, &format!("xaccount:{xaccount_type}:{xaccount_id}")).await
}

/// The customer mapped to `(xaccount_type, xaccount_id)` (platform-wide):
/// by its own mapping, else by a bound link.
pub async fn platform_customer_by_mapping(
    conn: &impl ConnectionTrait,
    xaccount_type: &str,
    xaccount_id: &str,
) -> Result<Option<customer::Model>, DbErr> {
    let own = customer::Entity::find()
        .filter(customer::Column::XaccountType.eq(xaccount_type))
        .filter(customer::Column::XaccountId.eq(xaccount_id))
        .one(conn)
        .await?;
    if own.is_some() {
        return Ok(own);
    }
    match link_of(conn, xaccount_type, xaccount_id).await? {
        Some(link) => {
            customer::Entity::find_by_id(link.customer_id)
                .one(conn)
                .await
        }
        None => Ok(None),
    }
}

async fn link_of(
    conn: &impl ConnectionTrait,
    xaccount_type: &str,
    xaccount_id: &str,
) -> Result<Option<xaccount_link::Model>, DbErr> {
    xaccount_link::Entity::find_by_id((xaccount_type.to_owned(), xaccount_id.to_owned()))
        .one(conn)
        .await
}

/// Whether the customer has an xaccount of `xaccount_type` already (its
/// own mapping or a link).
pub async fn customer_on_platform(
    conn: &impl ConnectionTrait,
    customer: &Customer,
    xaccount_type: &str,
) -> Result<bool, DbErr> {
    Ok(customer.xaccount_type == xaccount_type
        || xaccount_link::Entity::find()
            .filter(xaccount_link::Column::CustomerId.eq(customer.id.to_string()))
            .filter(xaccount_link::Column::XaccountType.eq(xaccount_type))
            .count(conn)
            .await?
            > 0)
}

/// Binds `(xaccount_type, xaccount_id)` to `customer`; `false` when the
/// xaccount (or the customer's place on that platform) was taken
/// concurrently.
pub async fn insert_link(
    conn: &impl ConnectionTrait,
    xaccount_type: &str,
    xaccount_id: &str,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = xaccount_link::ActiveModel {
        xaccount_type: Set(xaccount_type.to_owned()),
        xaccount_id: Set(xaccount_id.to_owned()),
        customer_id: Set(customer.to_string()),
        created_at: Set(now),
    };
    match xaccount_link::Entity::insert(row)
        .exec_without_returning(conn)
        .await
    {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Which identity a lookup is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    AccountName,
    Email,
    Mobile,
}

/// Whether any customer uses `value` as its `kind` (platform-wide).
pub async fn platform_identity_used(
    conn: &impl ConnectionTrait,
    kind: Identity,
    value: &str,
) -> Result<bool, DbErr> {
    let column = match kind {
        Identity::AccountName => customer::Column::AccountName,
        Identity::Email => customer::Column::Email,
        Identity::Mobile => customer::Column::Mobile,
    };
    Ok(customer::Entity::find()
        .filter(column.eq(value))
        .count(conn)
        .await?
        > 0)
}

/// A customer to insert.
#[derive(Debug)]
pub struct NewCustomerRow {
    pub id: CustomerId,
    pub partner_id: PartnerId,
    pub xaccount_type: String,
    pub xaccount_id: String,
    pub account_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub country: String,
    pub password_hash: Option<String>,
    pub association_type: AssociationType,
}

/// Inserts a customer associated at `now`; a unique-index conflict (a
/// concurrent create won) is named by the index it hit.
pub async fn insert(
    conn: &impl ConnectionTrait,
    row: NewCustomerRow,
    now: DateTime<Utc>,
) -> Result<Customer, CustomersError> {
    let model = customer::ActiveModel {
        id: Set(row.id.to_string()),
        partner_id: Set(Some(row.partner_id.to_string())),
        xaccount_type: Set(row.xaccount_type),
        xaccount_id: Set(row.xaccount_id),
        account_name: Set(row.account_name),
        email: Set(row.email),
        mobile: Set(row.mobile),
        country: Set(row.country),
        password_hash: Set(row.password_hash),
        association_type: Set(row.association_type.as_str().to_owned()),
        associated_at: Set(Some(now)),
        real_name_status: Set(RealNameStatus::None.as_str().to_owned()),
        customer_type: Set(CustomerType::None.as_str().to_owned()),
        freeze_mode: Set(FreezeMode::None.as_str().to_owned()),
        freeze_reason: Set(None),
        level: Set("V0".to_owned()),
        labels: Set("[]".to_owned()),
        account_managers: Set("[]".to_owned()),
        contact_name: Set(String::new()),
        contact_email: Set(String::new()),
        contact_phone: Set(String::new()),
        registered_on_other_site: Set(false),
        reported: Set(false),
        in_subsidy_program: Set(false),
        is_partner: Set(false),
        password_changed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match model.insert(conn).await {
        Ok(m) => Ok(Customer::from_row(m)?),
        Err(e) => Err(name_conflict(e)),
    }
}

/// A unique-index violation named after the identity it protects.
fn name_conflict(e: DbErr) -> CustomersError {
    let Some(SqlErr::UniqueConstraintViolation(detail)) = e.sql_err() else {
        return e.into();
    };
    // PostgreSQL names the index, SQLite the columns.
    if detail.contains("xaccount") {
        CustomersError::XaccountTaken
    } else if detail.contains("account_name") {
        CustomersError::AccountNameTaken
    } else if detail.contains("email") {
        CustomersError::EmailTaken
    } else if detail.contains("mobile") {
        CustomersError::MobileTaken
    } else {
        e.into()
    }
}

/// The profile fields a partner changes; `None` leaves one alone.
#[derive(Debug, Default, Clone)]
pub struct ProfileUpdate {
    pub labels: Option<Vec<String>>,
    pub account_managers: Option<Vec<String>>,
    pub contact: Option<Contact>,
}

/// Updates one customer's profile; `None` when it is not the partner's.
pub async fn update_profile(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    update: ProfileUpdate,
    now: DateTime<Utc>,
) -> Result<Option<Customer>, CustomersError> {
    let mut q = customer::Entity::update_many()
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::PartnerId.eq(partner.to_string()))
        .filter(customer::Column::Id.eq(id.to_string()));
    if let Some(labels) = &update.labels {
        q = q.col_expr(customer::Column::Labels, Expr::value(store_list(labels)));
    }
    if let Some(managers) = &update.account_managers {
        q = q.col_expr(
            customer::Column::AccountManagers,
            Expr::value(store_list(managers)),
        );
    }
    if let Some(c) = update.contact {
        q = q
            .col_expr(customer::Column::ContactName, Expr::value(c.name))
            .col_expr(customer::Column::ContactEmail, Expr::value(c.email))
            .col_expr(customer::Column::ContactPhone, Expr::value(c.phone));
    }
    if q.exec(conn).await?.rows_affected != 1 {
        return Ok(None);
    }
    if let Some(labels) = update.labels {
        replace_labels(conn, partner, id, labels).await?;
    }
    customer_of(conn, partner, id).await
}

/// Rewrites the label rows of one customer.
async fn replace_labels(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    labels: Vec<String>,
) -> Result<(), DbErr> {
    customer_label::Entity::delete_many()
        .filter(customer_label::Column::PartnerId.eq(partner.to_string()))
        .filter(customer_label::Column::CustomerId.eq(id.to_string()))
        .exec(conn)
        .await?;
    if labels.is_empty() {
        return Ok(());
    }
    let rows = labels.into_iter().map(|label| customer_label::ActiveModel {
        partner_id: Set(partner.to_string()),
        label: Set(label),
        customer_id: Set(id.to_string()),
    });
    customer_label::Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

/// Ends one customer's association with `partner`: the customer keeps its
/// account and mapping, loses the partner's labels and account managers, and
/// a password the partner set.
pub async fn disassociate(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    now: DateTime<Utc>,
) -> Result<(), CustomersError> {
    let changed = customer::Entity::update_many()
        .col_expr(
            customer::Column::PartnerId,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            customer::Column::AssociatedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(customer::Column::Labels, Expr::value("[]"))
        .col_expr(customer::Column::AccountManagers, Expr::value("[]"))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::PartnerId.eq(partner.to_string()))
        .filter(customer::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(CustomersError::CustomerNotFound);
    }
    // A password the partner set (the customer never changed it) is the
    // partner's: it must not let the partner sign in as the customer it let go.
    customer::Entity::update_many()
        .col_expr(
            customer::Column::PasswordHash,
            Expr::value(Option::<String>::None),
        )
        .filter(customer::Column::Id.eq(id.to_string()))
        .filter(customer::Column::PasswordChangedAt.is_null())
        .exec(conn)
        .await?;
    replace_labels(conn, partner, id, Vec::new()).await?;
    Ok(())
}

/// Sets one customer's real-name status and type; the customer must be the
/// partner's (the caller locked it).
pub async fn set_real_name(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    status: RealNameStatus,
    customer_type: CustomerType,
    now: DateTime<Utc>,
) -> Result<Customer, CustomersError> {
    customer::Entity::update_many()
        .col_expr(
            customer::Column::RealNameStatus,
            Expr::value(status.as_str()),
        )
        .col_expr(
            customer::Column::CustomerType,
            Expr::value(customer_type.as_str()),
        )
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::PartnerId.eq(partner.to_string()))
        .filter(customer::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?;
    customer_of(conn, partner, id)
        .await?
        .ok_or(CustomersError::CustomerNotFound)
}

/// Sets one customer's freeze mode and reason; `None` when it is not the
/// partner's.
pub async fn set_freeze(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: CustomerId,
    mode: FreezeMode,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<Customer>, CustomersError> {
    let changed = customer::Entity::update_many()
        .col_expr(customer::Column::FreezeMode, Expr::value(mode.as_str()))
        .col_expr(customer::Column::FreezeReason, Expr::value(reason))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::PartnerId.eq(partner.to_string()))
        .filter(customer::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(None);
    }
    customer_of(conn, partner, id).await
}

/// The customer signing in with `value` as its `kind`, whoever's it is
/// (identities are unique across the platform).
pub async fn platform_customer_by_identity(
    conn: &impl ConnectionTrait,
    kind: Identity,
    value: &str,
) -> Result<Option<customer::Model>, DbErr> {
    let column = match kind {
        Identity::AccountName => customer::Column::AccountName,
        Identity::Email => customer::Column::Email,
        Identity::Mobile => customer::Column::Mobile,
    };
    customer::Entity::find()
        .filter(column.eq(value))
        .one(conn)
        .await
}

/// One customer by id, whoever's it is: the customer itself signing in or
/// presenting its token, and associations by invitation.
pub async fn platform_customer(
    conn: &impl ConnectionTrait,
    id: CustomerId,
) -> Result<Option<Customer>, CustomersError> {
    customer::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .map(Customer::from_row)
        .transpose()
        .map_err(CustomersError::from)
}

/// [`platform_customer`] read outside any transaction ([`Db::read_one`]).
pub async fn read_platform_customer(
    db: &Db,
    id: CustomerId,
) -> Result<Option<Customer>, CustomersError> {
    db.read_one(customer::Entity::find_by_id(id.to_string()))
        .await?
        .map(Customer::from_row)
        .transpose()
        .map_err(CustomersError::from)
}

/// [`platform_customer`] as stored (with what the model leaves out: the
/// password hash and when it changed).
pub async fn platform_customer_row(
    conn: &impl ConnectionTrait,
    id: CustomerId,
) -> Result<Option<customer::Model>, DbErr> {
    customer::Entity::find_by_id(id.to_string()).one(conn).await
}

/// Like [`platform_customer`], locked until the transaction ends
/// (PostgreSQL; SQLite's single writer already serialises).
pub async fn platform_customer_for_update(
    conn: &impl ConnectionTrait,
    id: CustomerId,
) -> Result<Option<(Customer, Facts)>, CustomersError> {
    let Some(row) = customer::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let facts = Facts::of(&row);
    Ok(Some((Customer::from_row(row)?, facts)))
}

/// What the operator knows about a customer that refuses associating it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    pub registered_on_other_site: bool,
    pub is_partner: bool,
    pub reported: bool,
    pub in_subsidy_program: bool,
}

impl Facts {
    fn of(row: &customer::Model) -> Facts {
        Facts {
            registered_on_other_site: row.registered_on_other_site,
            is_partner: row.is_partner,
            reported: row.reported,
            in_subsidy_program: row.in_subsidy_program,
        }
    }
}

/// Sets the operator's facts about one customer (platform-wide: the
/// operator's verb); false when there is no such customer.
pub async fn platform_set_facts(
    conn: &impl ConnectionTrait,
    id: CustomerId,
    facts: Facts,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(customer::Entity::update_many()
        .col_expr(
            customer::Column::RegisteredOnOtherSite,
            Expr::value(facts.registered_on_other_site),
        )
        .col_expr(customer::Column::IsPartner, Expr::value(facts.is_partner))
        .col_expr(customer::Column::Reported, Expr::value(facts.reported))
        .col_expr(
            customer::Column::InSubsidyProgram,
            Expr::value(facts.in_subsidy_program),
        )
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Associates a customer that has no partner with `partner`; false when it
/// has one by now.
pub async fn associate(
    conn: &impl ConnectionTrait,
    id: CustomerId,
    partner: PartnerId,
    association_type: AssociationType,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(customer::Entity::update_many()
        .col_expr(
            customer::Column::PartnerId,
            Expr::value(partner.to_string()),
        )
        .col_expr(
            customer::Column::AssociationType,
            Expr::value(association_type.as_str()),
        )
        .col_expr(customer::Column::AssociatedAt, Expr::value(now))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::Id.eq(id.to_string()))
        .filter(customer::Column::PartnerId.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// Sets one customer's password hash and when it changed (platform-wide:
/// the customer's own verb).
pub async fn platform_set_password(
    conn: &impl ConnectionTrait,
    id: CustomerId,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    customer::Entity::update_many()
        .col_expr(customer::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(customer::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::Id.eq(id.to_string()))
        .exec(conn)
        .await?;
    Ok(())
}
