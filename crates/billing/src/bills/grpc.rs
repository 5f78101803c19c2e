//! `BillService`: translate the request, let the domain authorize and act,
//! translate back.

use futures::StreamExt;
use partner_api::billing::v1 as pb;
use partner_api::billing::v1::bill_service_server::BillService;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations, optional_id};
use tonic::{Request, Response, Status};

use super::adjust::{Adjustment, Subject};
use super::model::BillType;
use super::read::{Cycle, FeeFilter};
use crate::grpc::BillingApi;
use crate::orders::model::ChargingMode;

/// The longest adjustment reason and service type, in characters.
const REASON_MAX: usize = 500;
const SERVICE_TYPE_MAX: usize = 64;

impl BillingApi {
    fn cycle(&self, v: &mut Violations, raw: &str) -> Option<Cycle> {
        let cycle = Cycle::parse(raw, self.billing().billing_zone());
        v.check(cycle.is_some(), "cycle", "a month as YYYY-MM");
        cycle
    }
}

/// The customer a call names: a customer caller may name only itself (or
/// no one); a partner must name one when `required`.
fn named(
    v: &mut Violations,
    p: &Principal,
    raw: &str,
    required: bool,
) -> Option<Option<CustomerId>> {
    let id = optional_id(v, "customer_id", raw, CustomerId::parse)?;
    match (id, p.customer_id()) {
        (None, Some(own)) => Some(Some(own)),
        (None, None) if required => {
            v.add("customer_id", "required");
            None
        }
        (id, _) => Some(id),
    }
}

type ExportStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::ExportBillResponse, Status>> + Send>>;

#[tonic::async_trait]
impl BillService for BillingApi {
    async fn get_customer_bill(
        &self,
        req: Request<pb::GetCustomerBillRequest>,
    ) -> Result<Response<pb::GetCustomerBillResponse>, Status> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let customer = named(&mut v, &p, &r.customer_id, true);
        let cycle = self.cycle(&mut v, &r.cycle);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let (customer, cycle, reseller) =
            v.finish_with((|| Some((customer??, cycle?, reseller?)))())?;
        let billing = self.billing();
        let scope = billing.bill_scope(&p, reseller).await?;
        let customer = billing.narrowed(scope, Some(customer)).await?;
        let (bill, _) = billing.bill(scope, customer, &cycle).await?;
        Ok(Response::new(pb::GetCustomerBillResponse {
            bill: Some(bill),
        }))
    }

    async fn get_partner_bill(
        &self,
        req: Request<pb::GetPartnerBillRequest>,
    ) -> Result<Response<pb::GetPartnerBillResponse>, Status> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let cycle = self.cycle(&mut v, &r.cycle);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let (cycle, reseller) = v.finish_with((|| Some((cycle?, reseller?)))())?;
        let billing = self.billing();
        if p.customer_id().is_some() {
            // A partner's bill is no customer's to read.
            p.require(crate::access::BILLS_READ)?;
        }
        let scope = billing.bill_scope(&p, reseller).await?;
        let (bill, customers) = billing.bill(scope, None, &cycle).await?;
        Ok(Response::new(pb::GetPartnerBillResponse {
            bill: Some(bill),
            customers,
        }))
    }

    async fn list_fee_records(
        &self,
        req: Request<pb::ListFeeRecordsRequest>,
    ) -> Result<Response<pb::ListFeeRecordsResponse>, Status> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let customer = named(&mut v, &p, &r.customer_id, false);
        let resource = optional_id(&mut v, "resource_id", &r.resource_id, ResourceId::parse);
        let bill_type = if r.bill_type == 0 {
            Some(None)
        } else {
            let known = BillType::from_wire(r.bill_type);
            v.check(known.is_some(), "bill_type", "a known bill type, or none");
            known.map(Some)
        };
        let cycle = self.cycle(&mut v, &r.cycle);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let (size, customer, resource, bill_type, cycle, reseller) = v.finish_with((|| {
            Some((size?, customer?, resource?, bill_type?, cycle?, reseller?))
        })())?;
        let billing = self.billing();
        let scope = billing.bill_scope(&p, reseller).await?;
        let customer = billing.narrowed(scope, customer).await?;
        let filter = FeeFilter {
            cycle: cycle.name,
            customer,
            resource,
            bill_type,
        };
        let page = billing
            .list_fee_records(scope, filter, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListFeeRecordsResponse {
            fee_records: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_usage_details(
        &self,
        req: Request<pb::ListUsageDetailsRequest>,
    ) -> Result<Response<pb::ListUsageDetailsResponse>, Status> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let customer = named(&mut v, &p, &r.customer_id, true);
        let resource = optional_id(&mut v, "resource_id", &r.resource_id, ResourceId::parse);
        let cycle = self.cycle(&mut v, &r.cycle);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let (size, customer, resource, cycle, reseller) =
            v.finish_with((|| Some((size?, customer?, resource?, cycle?, reseller?)))())?;
        let billing = self.billing();
        let scope = billing.bill_scope(&p, reseller).await?;
        let customer = billing.narrowed(scope, customer).await?;
        let page = billing
            .list_usage_details(scope, (customer, resource), &cycle, (size, &r.page_token))
            .await?;
        Ok(Response::new(pb::ListUsageDetailsResponse {
            usage_details: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    type ExportBillStream = ExportStream;

    async fn export_bill(
        &self,
        req: Request<pb::ExportBillRequest>,
    ) -> Result<Response<Self::ExportBillStream>, Status> {
        let p = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let customer = named(&mut v, &p, &r.customer_id, false);
        let cycle = self.cycle(&mut v, &r.cycle);
        let reseller = optional_id(&mut v, "reseller_id", &r.reseller_id, PartnerId::parse);
        let (customer, cycle, reseller) =
            v.finish_with((|| Some((customer?, cycle?, reseller?)))())?;
        let billing = self.billing();
        let scope = billing.bill_scope(&p, reseller).await?;
        let customer = billing.narrowed(scope, customer).await?;
        let chunks = billing
            .export_bill(scope, customer, cycle.name)
            .map(|chunk| {
                chunk
                    .map(|chunk| pb::ExportBillResponse { chunk })
                    .map_err(Status::from)
            });
        Ok(Response::new(Box::pin(chunks)))
    }

    async fn adjust_bill(
        &self,
        req: Request<pb::AdjustBillRequest>,
    ) -> Result<Response<pb::AdjustBillResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let customer = v.take("customer_id", CustomerId::parse(&r.customer_id));
        let cycle = self.cycle(&mut v, &r.cycle);
        let subject = subject(&mut v, &r);
        let credit = match pb::AdjustmentType::try_from(r.r#type) {
            Ok(pb::AdjustmentType::Charge) => Some(false),
            Ok(pb::AdjustmentType::Credit) => Some(true),
            Ok(pb::AdjustmentType::Unspecified) | Err(_) => {
                v.add("type", "CHARGE or CREDIT");
                None
            }
        };
        let amount = crate::funds::grpc::amount(&mut v, r.amount.as_ref());
        let reason = v.take("reason", validate::text(&r.reason, 1, REASON_MAX));
        let parsed = (|| {
            Some((
                request_id?,
                customer?,
                cycle?,
                subject?,
                credit?,
                amount?,
                reason?,
            ))
        })();
        let (request_id, customer, cycle, subject, credit, amount, reason) =
            v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        let adjustment = Adjustment {
            customer,
            cycle,
            subject,
            credit,
            amount,
            reason,
        };
        Ok(Response::new(
            self.billing().adjust_bill(m, adjustment).await?,
        ))
    }
}

/// What an adjustment is about: a resource, or else a service type and
/// charge mode.
fn subject(v: &mut Violations, r: &pb::AdjustBillRequest) -> Option<Subject> {
    if !r.resource_id.is_empty() {
        v.check(
            r.service_type.is_empty() && r.charge_mode == 0,
            "service_type",
            "not with resource_id: the resource's are used",
        );
        return v
            .take("resource_id", ResourceId::parse(&r.resource_id))
            .map(Subject::Resource);
    }
    let service_type = v.take(
        "service_type",
        validate::text(&r.service_type, 1, SERVICE_TYPE_MAX),
    );
    let charge_mode = ChargingMode::from_wire(r.charge_mode);
    v.check(
        charge_mode.is_some(),
        "charge_mode",
        "PERIOD or ON_DEMAND (without resource_id)",
    );
    Some(Subject::Line {
        service_type: service_type?,
        charge_mode: charge_mode?,
    })
}
