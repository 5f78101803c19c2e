//! The budget RPCs of `CustomerService`: parsing and translation; the trait
//! impl in `customer.rs` delegates here.

use partner_api::customers::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::CustomerId;
use partner_kernel::money::Money;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::CustomersApi;
use super::parse::{many_customers, one_customer, reseller};
use crate::budgets::{BudgetType, NewBudget};
use crate::service::PageRequest;

impl CustomersApi {
    pub(super) async fn set_budget(
        &self,
        req: Request<pb::SetCustomerBudgetRequest>,
    ) -> Result<Response<pb::SetCustomerBudgetResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::SetCustomerBudgetRequest {
            request_id,
            customer_id,
            amount,
            budget_type,
            auto_freeze,
            reseller_id,
            lift_budget_freeze,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        let id = v.take("customer_id", CustomerId::parse(&customer_id));
        let amount = match amount.as_ref().map(Money::from_proto) {
            None => {
                v.add("amount", "required");
                None
            }
            Some(Err(e)) => {
                v.add("amount", e.to_string());
                None
            }
            Some(Ok(m)) if m.minor() < 0 => {
                v.add("amount", "must not be negative");
                None
            }
            Some(Ok(m)) => Some(m),
        };
        let budget_type = BudgetType::from_wire(budget_type);
        if budget_type.is_none() {
            v.add("budget_type", "MONTHLY or PACKAGE");
        }
        let reseller = v.take("reseller_id", reseller(&reseller_id));
        let parsed = (|| {
            Some((
                request_id?,
                id?,
                NewBudget {
                    amount: amount?,
                    budget_type: budget_type?,
                    auto_freeze,
                    lift_budget_freeze,
                },
                reseller?,
            ))
        })();
        let (request_id, id, budget, reseller) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers.set_budget(m, id, budget, reseller).await?,
        ))
    }

    pub(super) async fn get_budget(
        &self,
        req: Request<pb::GetCustomerBudgetRequest>,
    ) -> Result<Response<pb::GetCustomerBudgetResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (id, reseller) = one_customer(&r.customer_id, &r.reseller_id)?;
        let budget = self.customers.get_budget(&principal, id, reseller).await?;
        Ok(Response::new(pb::GetCustomerBudgetResponse {
            budget: Some(budget.to_proto()),
        }))
    }

    pub(super) async fn batch_get_budgets(
        &self,
        req: Request<pb::BatchGetCustomerBudgetsRequest>,
    ) -> Result<Response<pb::BatchGetCustomerBudgetsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let (ids, reseller) = many_customers(&r.customer_ids, &r.reseller_id)?;
        let results = self
            .customers
            .batch_get_budgets(&principal, ids, reseller)
            .await?;
        Ok(Response::new(pb::BatchGetCustomerBudgetsResponse {
            results,
        }))
    }

    pub(super) async fn budget_records(
        &self,
        req: Request<pb::ListBudgetRecordsRequest>,
    ) -> Result<Response<pb::ListBudgetRecordsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let (id, reseller, page) = parse_records(req.into_inner())?;
        let page = self
            .customers
            .list_budget_records(&principal, id, reseller, page)
            .await?;
        Ok(Response::new(pb::ListBudgetRecordsResponse {
            records: page.items,
            next_page_token: page.next_page_token,
        }))
    }
}

type RecordsArgs = (
    CustomerId,
    Option<partner_kernel::ids::PartnerId>,
    PageRequest,
);

fn parse_records(r: pb::ListBudgetRecordsRequest) -> Result<RecordsArgs, KernelError> {
    let pb::ListBudgetRecordsRequest {
        customer_id,
        page_size: size,
        page_token,
        reseller_id,
    } = r;
    let mut v = Violations::new();
    let id = v.take("customer_id", CustomerId::parse(&customer_id));
    let size = v.take("page_size", page_size(size));
    let reseller = v.take("reseller_id", reseller(&reseller_id));
    let parsed = (|| {
        Some((
            id?,
            reseller?,
            PageRequest {
                size: size?,
                token: page_token,
            },
        ))
    })();
    v.finish_with(parsed)
}
