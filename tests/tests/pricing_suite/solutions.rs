//! Software solutions through the real server: a software partner writes
//! and submits; the operator takes the solution through its lifecycle,
//! with the design and configurator tracks gating their steps; a
//! published baseline solution is registered certified; nothing crosses
//! partners.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_api::accounts::v1 as accounts;
use partner_api::pricing::v1 as pr;
use partner_tests::*;
use tonic::Code;

type Solutions = partner_api::pricing::v1::solution_service_client::SolutionServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

async fn create(client: &mut Solutions, name: &str) -> pr::Solution {
    ok(client
        .create_solution(pr::CreateSolutionRequest {
            request_id: new_request_id(),
            name: name.into(),
            description: "Retail point of sale on managed databases".into(),
        })
        .await)
    .solution
    .unwrap()
}

/// Sets `name` or `description` (the one field in the mask) to `value`.
async fn edit(
    client: &mut Solutions,
    id: &str,
    field: &str,
    value: &str,
) -> Result<pr::Solution, tonic::Status> {
    let mut request = pr::UpdateSolutionRequest {
        request_id: new_request_id(),
        id: id.into(),
        update_mask: Some(prost_types::FieldMask {
            paths: vec![field.into()],
        }),
        ..Default::default()
    };
    match field {
        "name" => request.name = value.into(),
        _ => request.description = value.into(),
    }
    client
        .update_solution(request)
        .await
        .map(|r| r.into_inner().solution.unwrap())
}

async fn submit(client: &mut Solutions, id: &str) -> Result<pr::Solution, tonic::Status> {
    client
        .submit_solution(pr::SubmitSolutionRequest {
            request_id: new_request_id(),
            id: id.into(),
        })
        .await
        .map(|r| r.into_inner().solution.unwrap())
}

async fn advance(
    client: &mut Solutions,
    id: &str,
    to: pr::SolutionState,
    reason: &str,
) -> Result<pr::Solution, tonic::Status> {
    client
        .advance_solution(pr::AdvanceSolutionRequest {
            request_id: new_request_id(),
            id: id.into(),
            to_state: to as i32,
            reason: reason.into(),
        })
        .await
        .map(|r| r.into_inner().solution.unwrap())
}

async fn work(
    client: &mut Solutions,
    id: &str,
    track: pr::WorkTrack,
    progress: pr::WorkProgress,
) -> Result<pr::Solution, tonic::Status> {
    client
        .set_solution_work(pr::SetSolutionWorkRequest {
            request_id: new_request_id(),
            id: id.into(),
            track: track as i32,
            progress: progress as i32,
        })
        .await
        .map(|r| r.into_inner().solution.unwrap())
}

fn state(s: &pr::Solution) -> pr::SolutionState {
    pr::SolutionState::try_from(s.state).unwrap()
}

/// A well-formed partner id no partner has.
fn partner_id_nobody_has() -> String {
    partner_kernel::ids::PartnerId::generate().to_string()
}

#[tokio::test]
async fn a_solution_goes_from_draft_to_published_and_certified() {
    use pr::SolutionState as S;
    use pr::{WorkProgress as P, WorkTrack as T};
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server
        .enrolled_partner(&admin, "softco", accounts::Program::SoftwarePartner)
        .await;
    let mut mine = server.solutions(&master);
    let mut operator = server.solutions(&admin);

    let draft = create(&mut mine, "Retail POS").await;
    assert_eq!(state(&draft), S::Draft);
    assert_eq!(draft.partner_id, partner.partner_id);
    assert_eq!(draft.design, P::NotStarted as i32);
    assert!(!draft.certified);
    let renamed = edit(&mut mine, &draft.id, "name", "Retail POS 2")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Retail POS 2");
    assert_eq!(renamed.description, draft.description, "not in the mask");

    // Only the operator advances; the partner only submits.
    assert_refused(
        advance(&mut mine, &draft.id, S::Submitted, "").await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        advance(&mut operator, &draft.id, S::Approved, "").await,
        Code::FailedPrecondition,
        "ILLEGAL_TRANSITION",
    );
    let submitted = submit(&mut mine, &draft.id).await.unwrap();
    assert_eq!(state(&submitted), S::Submitted);
    assert_refused(
        submit(&mut mine, &draft.id).await,
        Code::FailedPrecondition,
        "ILLEGAL_TRANSITION",
    );
    // Submitted: no longer editable by the partner.
    assert_refused(
        edit(&mut mine, &draft.id, "description", "changed").await,
        Code::FailedPrecondition,
        "SOLUTION_NOT_EDITABLE",
    );

    // A skipped step names both ends.
    let skipped = advance(&mut operator, &draft.id, S::Verified, "")
        .await
        .unwrap_err();
    assert_eq!(skipped.code(), Code::FailedPrecondition);
    assert_eq!(reason_of(&skipped), "ILLEGAL_TRANSITION");
    assert_eq!(metadata_of(&skipped, "from").as_deref(), Some("SUBMITTED"));
    assert_eq!(metadata_of(&skipped, "to").as_deref(), Some("VERIFIED"));

    for to in [S::Approved, S::Verified] {
        assert_eq!(
            state(&advance(&mut operator, &draft.id, to, "").await.unwrap()),
            to
        );
    }
    // The design track cannot be touched before design starts.
    assert_refused(
        work(&mut operator, &draft.id, T::Design, P::Done).await,
        Code::FailedPrecondition,
        "WORK_TRACK_CLOSED",
    );
    let designing = advance(&mut operator, &draft.id, S::Designing, "")
        .await
        .unwrap();
    assert_eq!(
        (designing.design, designing.configurator),
        (P::InProgress as i32, P::InProgress as i32),
        "design and configurator development start together"
    );
    let held_back = advance(&mut operator, &draft.id, S::Listing, "")
        .await
        .unwrap_err();
    assert_eq!(reason_of(&held_back), "WORK_NOT_DONE");
    assert_eq!(metadata_of(&held_back, "track").as_deref(), Some("DESIGN"));
    // The configurator may be done while the design is still going on.
    let s = work(&mut operator, &draft.id, T::Configurator, P::Done)
        .await
        .unwrap();
    assert_eq!(
        (s.design, s.configurator),
        (P::InProgress as i32, P::Done as i32)
    );
    work(&mut operator, &draft.id, T::Design, P::Done)
        .await
        .unwrap();
    advance(&mut operator, &draft.id, S::Listing, "")
        .await
        .unwrap();
    assert_refused(
        work(&mut operator, &draft.id, T::Design, P::InProgress).await,
        Code::FailedPrecondition,
        "WORK_TRACK_CLOSED",
    );
    // Reopened during listing, the configurator holds publication back.
    work(&mut operator, &draft.id, T::Configurator, P::InProgress)
        .await
        .unwrap();
    advance(&mut operator, &draft.id, S::ConfiguratorDevelopment, "")
        .await
        .unwrap();
    let held_back = advance(&mut operator, &draft.id, S::Published, "")
        .await
        .unwrap_err();
    assert_eq!(
        metadata_of(&held_back, "track").as_deref(),
        Some("CONFIGURATOR")
    );
    work(&mut operator, &draft.id, T::Configurator, P::Done)
        .await
        .unwrap();
    let published = advance(&mut operator, &draft.id, S::Published, "")
        .await
        .unwrap();
    assert_eq!(state(&published), S::Published);
    assert!(published.certified && published.certify_time.is_some());
    assert_eq!(published.origin, pr::SolutionOrigin::Partner as i32);
    assert_refused(
        advance(&mut operator, &draft.id, S::Rejected, "too late").await,
        Code::FailedPrecondition,
        "ILLEGAL_TRANSITION",
    );
    // The partner reads what the operator did.
    let read = ok(mine
        .get_solution(pr::GetSolutionRequest {
            id: draft.id.clone(),
        })
        .await)
    .solution
    .unwrap();
    assert_eq!(read, published);
}

#[tokio::test]
async fn a_rejected_solution_is_fixed_and_submitted_again() {
    use pr::SolutionState as S;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server
        .enrolled_partner(&admin, "softco", accounts::Program::SoftwarePartner)
        .await;
    let mut mine = server.solutions(&master);
    let mut operator = server.solutions(&admin);
    let s = create(&mut mine, "Clinic records").await;
    submit(&mut mine, &s.id).await.unwrap();
    // A rejection says why.
    let no_reason = advance(&mut operator, &s.id, S::Rejected, "")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_reason), ["reason"]);
    let rejected = advance(
        &mut operator,
        &s.id,
        S::Rejected,
        "needs a data-residency section",
    )
    .await
    .unwrap();
    assert_eq!(state(&rejected), S::Rejected);
    assert_eq!(rejected.reject_reason, "needs a data-residency section");
    edit(
        &mut mine,
        &s.id,
        "description",
        "Clinic records, kept in the patient's region",
    )
    .await
    .unwrap();
    let cleared = edit(&mut mine, &s.id, "description", "").await.unwrap();
    assert_eq!(cleared.description, "");
    assert_eq!(
        cleared.reject_reason, "needs a data-residency section",
        "the reason stays while it is rejected"
    );
    let again = submit(&mut mine, &s.id).await.unwrap();
    assert_eq!(state(&again), S::Submitted);
    assert_eq!(
        again.reject_reason, "",
        "the old reason goes with the old state"
    );
    assert_eq!(
        state(
            &advance(&mut operator, &s.id, S::Approved, "")
                .await
                .unwrap()
        ),
        S::Approved
    );
}

#[tokio::test]
async fn a_published_baseline_solution_is_registered_certified() {
    use pr::SolutionState as S;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server
        .enrolled_partner(&admin, "softco", accounts::Program::SoftwarePartner)
        .await;
    let (provider, _) = server
        .enrolled_partner(&admin, "provider", accounts::Program::SolutionProvider)
        .await;
    let mut operator = server.solutions(&admin);
    let register = |partner_id: &str, code: &str| pr::RegisterBaselineSolutionRequest {
        request_id: new_request_id(),
        partner_id: partner_id.into(),
        baseline_code: code.into(),
        name: "Smart factory baseline".into(),
        description: String::new(),
    };
    let baseline = ok(operator
        .register_baseline_solution(register(&partner.partner_id, "BL-2026.07"))
        .await)
    .solution
    .unwrap();
    assert_eq!(state(&baseline), S::Published);
    assert!(baseline.certified && baseline.certify_time.is_some());
    assert_eq!(baseline.origin, pr::SolutionOrigin::Baseline as i32);
    assert_eq!(baseline.baseline_code, "BL-2026.07");
    assert_eq!(
        (baseline.design, baseline.configurator),
        (pr::WorkProgress::Done as i32, pr::WorkProgress::Done as i32)
    );
    assert_refused(
        operator
            .register_baseline_solution(register(&partner.partner_id, "BL-2026.07"))
            .await,
        Code::AlreadyExists,
        "BASELINE_ALREADY_REGISTERED",
    );
    assert_refused(
        operator
            .register_baseline_solution(register(&provider.partner_id, "BL-1"))
            .await,
        Code::FailedPrecondition,
        "PROGRAM_REQUIRED",
    );
    assert_refused(
        operator
            .register_baseline_solution(register(&partner_id_nobody_has(), "BL-1"))
            .await,
        Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
    // Concurrent registrations of one new code: one solution.
    let calls = (0..6).map(|_| {
        let mut operator = server.solutions(&admin);
        let request = register(&partner.partner_id, "BL-raced");
        tokio::spawn(async move { operator.register_baseline_solution(request).await })
    });
    let mut registered = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => registered += 1,
            Err(e) => assert_eq!(reason_of(&e), "BASELINE_ALREADY_REGISTERED", "{e:?}"),
        }
    }
    assert_eq!(registered, 1);
    // A partner cannot register its own.
    assert_refused(
        server
            .solutions(&master)
            .register_baseline_solution(register(&partner.partner_id, "BL-2"))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // It is in the partner's list, and its lifecycle is over.
    let listed = ok(server
        .solutions(&master)
        .list_solutions(pr::ListSolutionsRequest::default())
        .await)
    .solutions;
    assert_eq!(listed.len(), 2, "the two baselines: {listed:?}");
    assert_eq!(listed[1], baseline);
    assert_refused(
        advance(&mut operator, &baseline.id, S::Rejected, "no").await,
        Code::FailedPrecondition,
        "ILLEGAL_TRANSITION",
    );
}

#[tokio::test]
async fn solutions_are_for_software_partners_and_stay_their_own() {
    use pr::SolutionState as S;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (alpha, alpha_master) = server
        .enrolled_partner(&admin, "alpha", accounts::Program::SoftwarePartner)
        .await;
    let (_, beta_master) = server
        .enrolled_partner(&admin, "beta", accounts::Program::SoftwarePartner)
        .await;
    let (_, provider_master) = server
        .enrolled_partner(&admin, "provider", accounts::Program::SolutionProvider)
        .await;
    assert_refused(
        server
            .solutions(&provider_master)
            .create_solution(pr::CreateSolutionRequest {
                request_id: new_request_id(),
                name: "Not mine to make".into(),
                description: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "PROGRAM_REQUIRED",
    );
    let mut alpha_side = server.solutions(&alpha_master);
    let mut beta_side = server.solutions(&beta_master);
    let first = create(&mut alpha_side, "Alpha one").await;
    let second = create(&mut alpha_side, "Alpha two").await;
    submit(&mut alpha_side, &second.id).await.unwrap();
    let theirs = create(&mut beta_side, "Beta one").await;

    // Beta sees none of alpha's, by id or in its list.
    assert_refused(
        beta_side
            .get_solution(pr::GetSolutionRequest {
                id: first.id.clone(),
            })
            .await,
        Code::NotFound,
        "SOLUTION_NOT_FOUND",
    );
    assert_refused(
        submit(&mut beta_side, &first.id).await,
        Code::NotFound,
        "SOLUTION_NOT_FOUND",
    );
    let listed = ok(beta_side
        .list_solutions(pr::ListSolutionsRequest::default())
        .await)
    .solutions;
    assert_eq!(listed, std::slice::from_ref(&theirs));
    let peeking = beta_side
        .list_solutions(pr::ListSolutionsRequest {
            partner_id: alpha.partner_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&peeking), ["partner_id"]);
    // Alpha's page token is alpha's, for its query only.
    let alpha_page = ok(alpha_side
        .list_solutions(pr::ListSolutionsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await);
    assert!(!alpha_page.next_page_token.is_empty());
    for (client, state) in [(&mut beta_side, 0), (&mut alpha_side, S::Draft as i32)] {
        let reused = client
            .list_solutions(pr::ListSolutionsRequest {
                page_size: 1,
                page_token: alpha_page.next_page_token.clone(),
                state,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&reused), ["page_token"]);
    }

    // The operator sees everyone's, newest first, and filters.
    let mut operator = server.solutions(&admin);
    let all = ok(operator
        .list_solutions(pr::ListSolutionsRequest::default())
        .await)
    .solutions;
    let ids: Vec<_> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [&theirs.id, &second.id, &first.id]);
    let alphas_submitted = ok(operator
        .list_solutions(pr::ListSolutionsRequest {
            partner_id: alpha.partner_id.clone(),
            state: S::Submitted as i32,
            ..Default::default()
        })
        .await)
    .solutions;
    assert_eq!(alphas_submitted.len(), 1);
    assert_eq!(alphas_submitted[0].id, second.id);
    // Paging walks the same list.
    let page = ok(operator
        .list_solutions(pr::ListSolutionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await);
    assert_eq!(page.solutions.len(), 2);
    let rest = ok(operator
        .list_solutions(pr::ListSolutionsRequest {
            page_size: 2,
            page_token: page.next_page_token,
            ..Default::default()
        })
        .await);
    assert_eq!(rest.solutions[0].id, first.id);
    assert!(rest.next_page_token.is_empty());
}

#[tokio::test]
async fn concurrent_approvals_move_a_solution_once() {
    use pr::SolutionState as S;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server
        .enrolled_partner(&admin, "softco", accounts::Program::SoftwarePartner)
        .await;
    let mut mine = server.solutions(&master);
    let s = create(&mut mine, "Raced").await;
    submit(&mut mine, &s.id).await.unwrap();
    let audited = server.rows("audit_records").await;
    let calls = (0..8).map(|_| {
        let mut operator = server.solutions(&admin);
        let id = s.id.clone();
        tokio::spawn(async move { advance(&mut operator, &id, S::Approved, "").await })
    });
    let mut approved = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(s) => {
                assert_eq!(state(&s), S::Approved);
                approved += 1;
            }
            Err(e) => {
                // The losers saw the new state, or lost the write race.
                let reason = reason_of(&e);
                assert!(
                    matches!(
                        reason.as_str(),
                        "ILLEGAL_TRANSITION" | "CONCURRENT_MODIFICATION"
                    ),
                    "{e:?}"
                );
            }
        }
    }
    assert_eq!(approved, 1);
    assert_eq!(
        server.rows("audit_records").await,
        audited + 1,
        "one audited change"
    );
}

#[tokio::test]
async fn sellers_read_operators_advance_and_replays_answer_alike() {
    use pr::SolutionState as S;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server
        .enrolled_partner(&admin, "softco", accounts::Program::SoftwarePartner)
        .await;
    let (_, sales) = server.user_with_role(&master, "seller", "SALES").await;
    let mut mine = server.solutions(&master);
    let mut seller = server.solutions(&sales);
    let mut operator = server.solutions(&admin);
    let denied = |r: Result<pr::Solution, tonic::Status>| {
        assert_refused(r, Code::PermissionDenied, "MISSING_PERMISSION");
    };

    // A seller reads its partner's solutions and writes none.
    let s = create(&mut mine, "Shared").await;
    let read = ok(seller
        .get_solution(pr::GetSolutionRequest { id: s.id.clone() })
        .await)
    .solution
    .unwrap();
    assert_eq!(read, s);
    denied(edit(&mut seller, &s.id, "name", "mine now").await);
    denied(submit(&mut seller, &s.id).await);
    assert_refused(
        seller
            .create_solution(pr::CreateSolutionRequest {
                request_id: new_request_id(),
                name: "Seller's".into(),
                description: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // The operator neither writes a partner's text nor submits for it.
    denied(edit(&mut operator, &s.id, "name", "operator's").await);
    denied(submit(&mut operator, &s.id).await);

    // Replays answer as the first call did: one more solution, one step.
    let creating = pr::CreateSolutionRequest {
        request_id: new_request_id(),
        name: "Once".into(),
        description: String::new(),
    };
    let first = ok(mine.create_solution(creating.clone()).await);
    assert_eq!(ok(mine.create_solution(creating).await), first);
    submit(&mut mine, &s.id).await.unwrap();
    let approving = pr::AdvanceSolutionRequest {
        request_id: new_request_id(),
        id: s.id.clone(),
        to_state: S::Approved as i32,
        reason: String::new(),
    };
    let first = ok(operator.advance_solution(approving.clone()).await);
    assert_eq!(ok(operator.advance_solution(approving).await), first);
    let registering = pr::RegisterBaselineSolutionRequest {
        request_id: new_request_id(),
        partner_id: partner.partner_id.clone(),
        baseline_code: "BL-1".into(),
        name: "Baseline".into(),
        description: String::new(),
    };
    let first = ok(operator
        .register_baseline_solution(registering.clone())
        .await);
    assert_eq!(
        ok(operator.register_baseline_solution(registering).await),
        first
    );
    // A published baseline is not the partner's to edit.
    assert_refused(
        edit(&mut mine, &first.solution.unwrap().id, "name", "renamed").await,
        Code::FailedPrecondition,
        "SOLUTION_NOT_EDITABLE",
    );
}

/// The fields a refused call names.
fn fields<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> Vec<String> {
    violated_fields(&r.unwrap_err())
}

#[tokio::test]
async fn malformed_solution_requests_name_their_fields() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server
        .enrolled_partner(&admin, "softco", accounts::Program::SoftwarePartner)
        .await;
    let mut mine = server.solutions(&master);
    let mut operator = server.solutions(&admin);
    let s = create(&mut mine, "Strict").await;

    assert_eq!(
        fields(
            operator
                .advance_solution(pr::AdvanceSolutionRequest {
                    request_id: new_request_id(),
                    id: s.id.clone(),
                    to_state: 99,
                    reason: String::new(),
                })
                .await
        ),
        ["to_state"]
    );
    assert_eq!(
        fields(
            operator
                .set_solution_work(pr::SetSolutionWorkRequest {
                    request_id: new_request_id(),
                    id: s.id.clone(),
                    track: 99,
                    progress: pr::WorkProgress::NotStarted as i32,
                })
                .await
        ),
        ["track", "progress"]
    );
    assert_eq!(
        fields(
            mine.list_solutions(pr::ListSolutionsRequest {
                state: 99,
                ..Default::default()
            })
            .await
        ),
        ["state"]
    );
    assert_eq!(
        fields(
            operator
                .register_baseline_solution(pr::RegisterBaselineSolutionRequest {
                    request_id: new_request_id(),
                    partner_id: "prt_nope".into(),
                    baseline_code: "BL 1".into(),
                    name: "\u{7}".into(),
                    description: "x".repeat(2001),
                })
                .await
        ),
        ["partner_id", "baseline_code", "name", "description"]
    );
    // Update masks: a field that cannot change, none, or more than any
    // update has (nothing of such a mask is applied).
    for paths in [vec!["name", "state"], vec![], vec!["name"; 9]] {
        let request = pr::UpdateSolutionRequest {
            request_id: new_request_id(),
            id: s.id.clone(),
            name: "Changed".into(),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
            ..Default::default()
        };
        let refused = mine.update_solution(request).await.unwrap_err();
        assert_eq!(violated_fields(&refused), ["update_mask"], "{paths:?}");
    }
    let unchanged = ok(mine
        .get_solution(pr::GetSolutionRequest { id: s.id.clone() })
        .await)
    .solution
    .unwrap();
    assert_eq!(unchanged.name, "Strict");
}
