//! Software solutions (`SolutionService`): a software partner writes a
//! solution and submits it; the operator takes it through the lifecycle of
//! [`model`]; a solution already published as a baseline solution is
//! registered by the operator, published and certified at once.

pub mod entity;
pub mod grpc;
pub mod model;

use chrono::{DateTime, Utc};
use partner_accounts::programs::Program;
use partner_api::pricing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{PartnerId, SolutionId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use self::model::{Origin, Progress, Stage, State, Track};
use crate::access::{
    PLATFORM_SOLUTIONS_MANAGE, PLATFORM_SOLUTIONS_READ, SOLUTIONS_MANAGE, SOLUTIONS_READ,
};
use crate::error::PricingError;
use crate::service::Pricing;

/// A solution's partner-written text.
#[derive(Debug, Clone)]
pub struct Text {
    pub name: String,
    pub description: String,
}

/// The fields an update changes; `None` keeps the stored value.
#[derive(Debug, Default)]
pub struct Edit {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A change to a solution.
#[derive(Debug)]
pub enum Action {
    /// The partner edits a draft or rejected solution.
    Edit(Edit),
    /// The partner submits it.
    Submit,
    /// The operator moves it to the state, saying why (required to reject).
    Advance(State, String),
    /// The operator records a work track's progress.
    Work(Track, Progress),
}

/// Who reads or writes: a partner its own solutions, the operator any.
#[derive(Debug, Clone, Copy)]
enum Holder {
    Operator,
    Partner(PartnerId),
}

impl Holder {
    fn reader(p: &Principal) -> Result<Holder, KernelError> {
        if p.holds(&PLATFORM_SOLUTIONS_READ) {
            return Ok(Holder::Operator);
        }
        p.require_partner(SOLUTIONS_READ).map(Holder::Partner)
    }

    /// The partner edits and submits; the operator advances.
    fn writer(p: &Principal, action: &Action) -> Result<Holder, KernelError> {
        match action {
            Action::Advance(..) | Action::Work(..) => p
                .require(PLATFORM_SOLUTIONS_MANAGE)
                .map(|()| Holder::Operator),
            Action::Edit(_) | Action::Submit => {
                p.require_partner(SOLUTIONS_MANAGE).map(Holder::Partner)
            }
        }
    }
}

fn stage(row: &entity::Model) -> Result<Stage, KernelError> {
    Ok(Stage {
        state: State::parse(&row.state)?,
        design: Progress::parse(&row.design)?,
        configurator: Progress::parse(&row.configurator)?,
    })
}

fn to_proto(row: &entity::Model) -> Result<pb::Solution, KernelError> {
    let s = stage(row)?;
    // Certification is publication: a published solution (taken through
    // the lifecycle, or registered as a baseline) is certified from the
    // moment it entered PUBLISHED, its last state.
    let certified = s.state == State::Published;
    Ok(pb::Solution {
        id: row.id.clone(),
        partner_id: row.partner_id.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        state: s.state.to_proto() as i32,
        design: s.design.to_proto() as i32,
        configurator: s.configurator.to_proto() as i32,
        certified,
        certify_time: certified.then(|| to_proto_timestamp(row.state_time)),
        origin: Origin::parse(&row.origin)?.to_proto() as i32,
        baseline_code: row.baseline_code.clone().unwrap_or_default(),
        reject_reason: row.reject_reason.clone().unwrap_or_default(),
        state_time: Some(to_proto_timestamp(row.state_time)),
        create_time: Some(to_proto_timestamp(row.created_at)),
        update_time: Some(to_proto_timestamp(row.updated_at)),
    })
}

fn summary(row: &entity::Model) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "state": row.state,
        "design": row.design,
        "configurator": row.configurator,
        "origin": row.origin,
        "baseline_code": row.baseline_code,
        "reject_reason": row.reject_reason,
    })
}

fn partner_of(row: &entity::Model) -> Result<PartnerId, KernelError> {
    PartnerId::parse(&row.partner_id).map_err(|_| KernelError::Corrupt("solution partner".into()))
}

async fn held(
    conn: &impl ConnectionTrait,
    holder: Holder,
    id: SolutionId,
) -> Result<entity::Model, PricingError> {
    let mut q = entity::Entity::find_by_id(id.to_string());
    if let Holder::Partner(partner) = holder {
        q = q.filter(entity::Column::PartnerId.eq(partner.to_string()));
    }
    q.one(conn).await?.ok_or(PricingError::SolutionNotFound)
}

/// The row after `action` at `now`.
fn applied(
    before: &entity::Model,
    action: Action,
    now: DateTime<Utc>,
) -> Result<entity::Model, PricingError> {
    let from = stage(before)?;
    let mut after = before.clone();
    let (to, reason) = match action {
        Action::Edit(edit) => {
            if !from.editable() {
                return Err(PricingError::SolutionNotEditable);
            }
            after.name = edit.name.unwrap_or(after.name);
            after.description = edit.description.unwrap_or(after.description);
            return Ok(after);
        }
        Action::Submit => (from.submit()?, None),
        Action::Advance(state, reason) => (from.advance(state)?, Some(reason)),
        Action::Work(track, progress) => (from.set_work(track, progress)?, None),
    };
    after.design = to.design.as_str().to_owned();
    after.configurator = to.configurator.as_str().to_owned();
    if to.state != from.state {
        after.state = to.state.as_str().to_owned();
        after.state_time = now;
        after.reject_reason = reason.filter(|_| to.state == State::Rejected);
    }
    Ok(after)
}

impl Pricing {
    /// The stored answer when `m` is a replay (it answers as the first call
    /// did, whatever has changed since); otherwise `None`, once `partner` is
    /// known to be a software partner.
    async fn replay_or_software_partner<R: prost::Message + Default>(
        &self,
        m: &Mutation,
        partner: PartnerId,
    ) -> Result<Option<R>, PricingError> {
        if let Some(done) = write::replayed(self.db(), m).await? {
            return Ok(Some(done));
        }
        let record = self.partner_record(partner).await?;
        if record
            .programs
            .iter()
            .any(|e| e.program == Program::SoftwarePartner)
        {
            Ok(None)
        } else {
            Err(PricingError::ProgramRequired(
                "software solutions are for software partners",
            ))
        }
    }

    /// Inserts `row` and answers with it.
    async fn insert_solution<R: prost::Message + Default + 'static>(
        &self,
        m: &Mutation,
        row: entity::Model,
        respond: fn(pb::Solution) -> R,
    ) -> Result<R, PricingError> {
        let solution = to_proto(&row)?;
        let partner = partner_of(&row)?;
        write::commit(self.db(), m, move |tx| {
            Box::pin(async move {
                entity::Entity::insert(row.clone().into_active_model())
                    .exec_without_returning(tx)
                    .await
                    .map_err(|e| match e.sql_err() {
                        // The partner's baseline is registered already (the
                        // index on partner and code is the one check, so
                        // concurrent registrations cannot both pass it).
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                            if row.baseline_code.is_some() =>
                        {
                            PricingError::BaselineRegistered
                        }
                        _ => e.into(),
                    })?;
                let change = Change::of(Some(partner), &row.id).after(summary(&row));
                Ok(Outcome::new(respond(solution), change))
            })
        })
        .await
    }

    fn new_row(
        partner: PartnerId,
        text: Text,
        baseline_code: Option<String>,
        now: DateTime<Utc>,
    ) -> entity::Model {
        let (origin, stage) = match baseline_code {
            Some(_) => (Origin::Baseline, Stage::BASELINE),
            None => (Origin::Partner, Stage::DRAFT),
        };
        entity::Model {
            id: SolutionId::generate().to_string(),
            partner_id: partner.to_string(),
            name: text.name,
            description: text.description,
            state: stage.state.as_str().to_owned(),
            design: stage.design.as_str().to_owned(),
            configurator: stage.configurator.as_str().to_owned(),
            origin: origin.as_str().to_owned(),
            baseline_code,
            reject_reason: None,
            version: 1,
            state_time: now,
            created_at: now,
            updated_at: now,
        }
    }

    /// A software partner makes a draft.
    pub async fn create_solution(
        &self,
        m: Mutation,
        text: Text,
    ) -> Result<pb::CreateSolutionResponse, PricingError> {
        let partner = m.principal.require_partner(SOLUTIONS_MANAGE)?;
        if let Some(done) = self.replay_or_software_partner(&m, partner).await? {
            return Ok(done);
        }
        let row = Self::new_row(partner, text, None, m.now);
        self.insert_solution(&m, row, |s| pb::CreateSolutionResponse {
            solution: Some(s),
        })
        .await
    }

    /// The operator registers a partner's published baseline solution:
    /// published and certified at once.
    pub async fn register_baseline_solution(
        &self,
        m: Mutation,
        partner: PartnerId,
        code: String,
        text: Text,
    ) -> Result<pb::RegisterBaselineSolutionResponse, PricingError> {
        m.principal.require(PLATFORM_SOLUTIONS_MANAGE)?;
        if let Some(done) = self.replay_or_software_partner(&m, partner).await? {
            return Ok(done);
        }
        let row = Self::new_row(partner, text, Some(code), m.now);
        self.insert_solution(&m, row, |s| pb::RegisterBaselineSolutionResponse {
            solution: Some(s),
        })
        .await
    }

    /// Applies `action` to a solution the caller holds; the write applies
    /// only over the version it read.
    pub async fn change_solution<R: prost::Message + Default + 'static>(
        &self,
        m: Mutation,
        id: SolutionId,
        action: Action,
        respond: fn(pb::Solution) -> R,
    ) -> Result<R, PricingError> {
        let holder = Holder::writer(&m.principal, &action)?;
        let reason = match &action {
            Action::Advance(_, reason) => reason.clone(),
            Action::Edit(_) | Action::Submit | Action::Work(..) => String::new(),
        };
        let now = m.now;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let before = held(tx, holder, id).await?;
                let mut after = applied(&before, action, now)?;
                after.version = before.version + 1;
                after.updated_at = now;
                let written = entity::Entity::update_many()
                    .set(after.clone().into_active_model().reset_all())
                    .filter(entity::Column::Id.eq(before.id.clone()))
                    .filter(entity::Column::Version.eq(before.version))
                    .exec(tx)
                    .await?;
                if written.rows_affected != 1 {
                    return Err(KernelError::Conflict.into());
                }
                let change = Change::of(Some(partner_of(&after)?), &after.id)
                    .before(summary(&before))
                    .after(summary(&after))
                    .reason(reason);
                Ok(Outcome::new(respond(to_proto(&after)?), change))
            })
        })
        .await
    }

    /// One solution the caller may read.
    pub async fn get_solution(
        &self,
        p: &Principal,
        id: SolutionId,
    ) -> Result<pb::Solution, PricingError> {
        let holder = Holder::reader(p)?;
        let row = held(self.db().conn(), holder, id).await?;
        Ok(to_proto(&row)?)
    }

    /// A page of solutions, newest first: a partner's own; the operator's
    /// every partner's, or `partner`'s.
    pub async fn list_solutions(
        &self,
        p: &Principal,
        state: Option<State>,
        partner: Option<PartnerId>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Solution>, PricingError> {
        let owner = match Holder::reader(p)? {
            Holder::Partner(own) if partner.is_some_and(|other| other != own) => {
                return Err(KernelError::Invalid(vec![FieldViolation::new(
                    "partner_id",
                    "only the operator lists another partner's solutions",
                )])
                .into());
            }
            Holder::Partner(own) => Some(own),
            Holder::Operator => partner,
        };
        let tenant = p
            .partner_id()
            .map_or_else(|| "platform".to_owned(), |own| own.to_string());
        let scope = PageScope::new("ListSolutions", &tenant)
            .filter("partner", owner.map(|o| o.to_string()).unwrap_or_default())
            .filter("state", state.map_or("", State::as_str));
        let mut query = entity::Entity::find();
        if let Some(owner) = owner {
            query = query.filter(entity::Column::PartnerId.eq(owner.to_string()));
        }
        if let Some(state) = state {
            query = query.filter(entity::Column::State.eq(state.as_str()));
        }
        let page = self
            .newest_first(
                query,
                entity::Column::Id,
                |r| r.id.clone(),
                &scope,
                token,
                size,
            )
            .await?;
        Ok(page.try_map(|row| to_proto(&row))?)
    }
}
