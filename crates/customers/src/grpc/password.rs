//! `CustomerService.ChangeOwnPassword`: parsing and translation; the trait
//! impl in `customer.rs` delegates here.

use partner_api::customers::v1 as pb;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::CustomersApi;

impl CustomersApi {
    pub(super) async fn change_password(
        &self,
        req: Request<pb::ChangeOwnPasswordRequest>,
    ) -> Result<Response<pb::ChangeOwnPasswordResponse>, Status> {
        let call = self.calls.start(&req)?;
        let pb::ChangeOwnPasswordRequest {
            request_id,
            current_password,
            new_password,
        } = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&request_id));
        v.check(
            current_password.len() <= 256,
            "current_password",
            "at most 256 characters",
        );
        let new = v
            .take("new_password", validate::new_password(&new_password))
            .map(|()| new_password);
        let (request_id, new) = v.finish_with(request_id.zip(new))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.customers
                .change_own_password(m, current_password, new)
                .await?,
        ))
    }
}
