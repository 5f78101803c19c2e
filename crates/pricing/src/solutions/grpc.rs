//! `SolutionService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::solution_service_server::SolutionService;
use partner_kernel::ids::{PartnerId, SolutionId};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::model::{Progress, State, Track};
use super::{Action, Edit, Text};
use crate::grpc::PricingApi;
use crate::wire::{is_code, optional_id};

const NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 2000;

fn text(v: &mut Violations, name: &str, description: &str) -> Option<Text> {
    let name = v.take("name", validate::text(name, 1, NAME_MAX));
    let description = v.take(
        "description",
        validate::text(description, 0, DESCRIPTION_MAX),
    );
    Some(Text {
        name: name?,
        description: description?,
    })
}

/// A baseline solution's code, exactly as the vendor's catalog spells it.
fn baseline_code(raw: &str) -> Result<String, &'static str> {
    if is_code(raw) {
        Ok(raw.to_owned())
    } else {
        Err("1-64 of A-Z a-z 0-9 . - _")
    }
}

/// A wire enum that must name a value (not UNSPECIFIED).
fn required<T>(v: &mut Violations, field: &str, parsed: Option<T>) -> Option<T> {
    v.check(parsed.is_some(), field, "required: a known value");
    parsed
}

#[tonic::async_trait]
impl SolutionService for PricingApi {
    async fn create_solution(
        &self,
        req: Request<pb::CreateSolutionRequest>,
    ) -> Result<Response<pb::CreateSolutionResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let text = text(&mut v, &r.name, &r.description);
        let (request_id, text) = v.finish_with(request_id.zip(text))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing().create_solution(m, text).await?,
        ))
    }

    async fn update_solution(
        &self,
        req: Request<pb::UpdateSolutionRequest>,
    ) -> Result<Response<pb::UpdateSolutionResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", SolutionId::parse(&r.id));
        let paths = validate::mask_paths(&mut v, r.update_mask);
        let mut edit = Edit::default();
        for path in &paths {
            match path.as_str() {
                "name" => edit.name = v.take("name", validate::text(&r.name, 1, NAME_MAX)),
                "description" => {
                    edit.description = v.take(
                        "description",
                        validate::text(&r.description, 0, DESCRIPTION_MAX),
                    );
                }
                other => validate::not_updatable(&mut v, other),
            }
        }
        let (request_id, id) = v.finish_with(request_id.zip(id))?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing()
                .change_solution(m, id, Action::Edit(edit), |s| pb::UpdateSolutionResponse {
                    solution: Some(s),
                })
                .await?,
        ))
    }

    async fn submit_solution(
        &self,
        req: Request<pb::SubmitSolutionRequest>,
    ) -> Result<Response<pb::SubmitSolutionResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (request_id, id, _) =
            validate::verb(&r.request_id, "id", SolutionId::parse(&r.id), "")?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing()
                .change_solution(m, id, Action::Submit, |s| pb::SubmitSolutionResponse {
                    solution: Some(s),
                })
                .await?,
        ))
    }

    async fn get_solution(
        &self,
        req: Request<pb::GetSolutionRequest>,
    ) -> Result<Response<pb::GetSolutionResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("id", SolutionId::parse(&req.get_ref().id));
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::GetSolutionResponse {
            solution: Some(self.pricing().get_solution(&principal, id).await?),
        }))
    }

    async fn list_solutions(
        &self,
        req: Request<pb::ListSolutionsRequest>,
    ) -> Result<Response<pb::ListSolutionsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let partner = optional_id(&mut v, "partner_id", &r.partner_id, PartnerId::parse);
        let state = if r.state == 0 {
            Some(None)
        } else {
            let known = State::from_wire(r.state);
            v.check(known.is_some(), "state", "a known state, or none");
            known.map(Some)
        };
        let parsed = (|| Some((size?, partner?, state?)))();
        let (size, partner, state) = v.finish_with(parsed)?;
        let page = self
            .pricing()
            .list_solutions(&principal, state, partner, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListSolutionsResponse {
            solutions: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn advance_solution(
        &self,
        req: Request<pb::AdvanceSolutionRequest>,
    ) -> Result<Response<pb::AdvanceSolutionResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", SolutionId::parse(&r.id));
        let to = required(&mut v, "to_state", State::from_wire(r.to_state));
        // A rejection says why; the partner reads it to fix the solution.
        let min_reason = usize::from(to == Some(State::Rejected));
        let reason = v.take("reason", validate::text(&r.reason, min_reason, 500));
        let parsed = (|| Some((request_id?, id?, to?, reason?)))();
        let (request_id, id, to, reason) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing()
                .change_solution(m, id, Action::Advance(to, reason), |s| {
                    pb::AdvanceSolutionResponse { solution: Some(s) }
                })
                .await?,
        ))
    }

    async fn set_solution_work(
        &self,
        req: Request<pb::SetSolutionWorkRequest>,
    ) -> Result<Response<pb::SetSolutionWorkResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = v.take("id", SolutionId::parse(&r.id));
        let track = required(&mut v, "track", Track::from_wire(r.track));
        let progress = Progress::from_wire(r.progress).filter(|p| *p != Progress::NotStarted);
        v.check(progress.is_some(), "progress", "IN_PROGRESS or DONE");
        let parsed = (|| Some((request_id?, id?, track?, progress?)))();
        let (request_id, id, track, progress) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing()
                .change_solution(m, id, Action::Work(track, progress), |s| {
                    pb::SetSolutionWorkResponse { solution: Some(s) }
                })
                .await?,
        ))
    }

    async fn register_baseline_solution(
        &self,
        req: Request<pb::RegisterBaselineSolutionRequest>,
    ) -> Result<Response<pb::RegisterBaselineSolutionResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let partner = v.take("partner_id", PartnerId::parse(&r.partner_id));
        let code = v.take("baseline_code", baseline_code(&r.baseline_code));
        let text = text(&mut v, &r.name, &r.description);
        let parsed = (|| Some((request_id?, partner?, code?, text?)))();
        let (request_id, partner, code, text) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing()
                .register_baseline_solution(m, partner, code, text)
                .await?,
        ))
    }
}
