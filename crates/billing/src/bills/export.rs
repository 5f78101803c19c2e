//! `ExportBill`: a cycle's fee records as CSV, read a page at a time in id
//! order and sent as one chunk per page, so an export holds one page in
//! memory however many lines it has; a client that reads slowly slows the
//! reading (the stream is pulled).

use std::pin::Pin;

use futures::Stream;
use partner_kernel::error::KernelError;
use partner_kernel::ids::CustomerId;
use partner_kernel::money::Currency;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity as fee;
use super::read::BillScope;
use crate::error::BillingError;
use crate::service::Billing;

/// Fee records per chunk (about 60 KiB of CSV).
const PAGE: u64 = 250;

/// The columns, in order (docs/billing.md, "Bill exports").
pub const COLUMNS: [&str; 22] = [
    "fee_id",
    "cycle",
    "customer_id",
    "partner_id",
    "resource_id",
    "service_type",
    "resource_type",
    "spec",
    "region",
    "charge_mode",
    "bill_type",
    "currency",
    "list_amount",
    "discount_amount",
    "amount",
    "transaction_id",
    "source_id",
    "usage_start",
    "usage_end",
    "created_at",
    "adjusts_cycle",
    "reason",
];

/// A stream of CSV chunks.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Vec<u8>, BillingError>> + Send>>;

/// A field as CSV has it (RFC 4180): quoted when it holds a comma, quote
/// or line break, quotes doubled. A field that a spreadsheet would read as
/// a formula (`=`, `+`, `-`, `@` first) is quoted with a leading `'`
/// unless it is a number.
fn field(out: &mut String, raw: &str) {
    let formula = raw.starts_with(['=', '+', '@', '\t', '\r'])
        || (raw.starts_with('-') && raw.parse::<Decimal>().is_err());
    if formula {
        out.push_str("\"'");
        out.push_str(&raw.replace('"', "\"\""));
        out.push('"');
    } else if raw.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&raw.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(raw);
    }
}

/// `minor` units of `currency` as a plain decimal (`-12.30`).
fn amount(minor: i64, currency: Currency) -> String {
    Decimal::new(minor, currency.exponent()).to_string()
}

fn line(out: &mut String, f: &fee::Model) -> Result<(), KernelError> {
    let currency = Currency::parse(&f.currency)
        .map_err(|e| KernelError::Corrupt(format!("fee record currency: {e}")))?;
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or_default()
    };
    let fields: [String; 22] = [
        f.id.clone(),
        f.cycle.clone(),
        f.customer_id.clone(),
        f.partner_id.clone().unwrap_or_default(),
        f.resource_id.clone().unwrap_or_default(),
        f.service_type.clone(),
        f.resource_type.clone(),
        f.spec.clone(),
        f.region.clone(),
        f.charge_mode.clone(),
        f.bill_type.clone(),
        f.currency.clone(),
        amount(f.list_minor, currency),
        amount(f.discount_minor, currency),
        amount(f.amount_minor, currency),
        f.transaction_id.clone().unwrap_or_default(),
        f.source_id.clone(),
        time(f.usage_start),
        time(f.usage_end),
        time(Some(f.occurred_at)),
        f.adjusts_cycle.clone().unwrap_or_default(),
        f.reason.clone().unwrap_or_default(),
    ];
    for (i, v) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, v);
    }
    out.push_str("\r\n");
    Ok(())
}

/// Where an export is.
struct Cursor {
    billing: Billing,
    scope: BillScope,
    customer: Option<CustomerId>,
    cycle: String,
    /// The last fee record sent (`None`: only the header so far).
    after: Option<String>,
    done: bool,
}

impl Billing {
    /// The CSV chunks of `cycle`'s fee records in `scope` (one customer's
    /// with `customer`): the header row, then a chunk per page.
    pub(crate) fn export_bill(
        &self,
        scope: BillScope,
        customer: Option<CustomerId>,
        cycle: String,
    ) -> Chunks {
        let cursor = Cursor {
            billing: self.clone(),
            scope,
            customer,
            cycle,
            after: None,
            done: false,
        };
        let mut header = COLUMNS.join(",");
        header.push_str("\r\n");
        let first = futures::stream::once(async move { Ok(header.into_bytes()) });
        let pages = futures::stream::try_unfold(cursor, |mut c| async move {
            if c.done {
                return Ok(None);
            }
            let mut q = fee::Entity::find()
                .filter(c.scope.fees())
                .filter(fee::Column::Cycle.eq(c.cycle.as_str()));
            if let Some(id) = c.customer {
                q = q.filter(fee::Column::CustomerId.eq(id.to_string()));
            }
            if let Some(after) = &c.after {
                q = q.filter(fee::Column::Id.gt(after.as_str()));
            }
            let rows = q
                .order_by_asc(fee::Column::Id)
                .limit(PAGE)
                .all(c.billing.db().conn())
                .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            c.done = (rows.len() as u64) < PAGE;
            let mut out = String::with_capacity(rows.len() * 256);
            for r in &rows {
                line(&mut out, r)?;
            }
            c.after = rows.last().map(|r| r.id.clone());
            Ok(Some((out.into_bytes(), c)))
        });
        Box::pin(futures::StreamExt::chain(first, pages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(raw: &str) -> String {
        let mut out = String::new();
        field(&mut out, raw);
        out
    }

    #[test]
    fn fields_are_quoted_as_csv_wants_and_formulas_are_defused() {
        assert_eq!(one("cn-north-1"), "cn-north-1");
        assert_eq!(one("a,b"), "\"a,b\"");
        assert_eq!(one("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(one("two\nlines"), "\"two\nlines\"");
        assert_eq!(one("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(one("@sum"), "\"'@sum\"");
        assert_eq!(one("-12.30"), "-12.30");
        assert_eq!(one("-cmd"), "\"'-cmd\"");
    }

    #[test]
    fn amounts_are_plain_decimals_in_the_currencys_minor_unit() {
        assert_eq!(amount(-1230, Currency::Cny), "-12.30");
        assert_eq!(amount(5, Currency::Cny), "0.05");
    }
}
