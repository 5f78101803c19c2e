//! The event outbox: events for partners' systems, written in the same
//! transaction as the change they announce ([`crate::write::commit`]), then
//! given a position in one platform-wide sequence by [`sequence`], in the
//! order they became visible. Readers go by position, so reading after a
//! position misses nothing and repeats nothing.
//!
//! Why a sequencer and not the event id: ids are taken when a transaction
//! writes, and transactions commit in another order, so a reader that has
//! passed id N could later find a smaller id committed. The sequencer only
//! numbers committed events, one sequencer at a time (SQLite's writer lock,
//! a PostgreSQL advisory lock across replicas), each time after the highest
//! number given so far.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use tokio::sync::{Notify, watch};

use crate::db::Db;
use crate::entity::outbox_event;
use crate::error::KernelError;
use crate::ids::{EventId, PartnerId};
use crate::mutation::Mutation;
use crate::write::Change;

/// At most this many events are numbered per sequencer transaction.
pub const SEQUENCE_BATCH: u64 = 1000;
/// The PostgreSQL advisory lock that makes one sequencer run at a time.
const SEQUENCER_LOCK: i64 = 0x6f75_7462_6f78; // "outbox"

/// Appends the event of type `event_type` that announces `change`, inside
/// `conn`. Its payload is the resource's summary after the change, or before
/// it for a deletion.
pub(crate) async fn append(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    change: &Change,
    event_type: &'static str,
) -> Result<EventId, KernelError> {
    let id = EventId::generate();
    let payload = change
        .after
        .clone()
        .or_else(|| change.before.clone())
        .unwrap_or_else(|| serde_json::json!({}));
    outbox_event::ActiveModel {
        id: Set(id.to_string()),
        partner_id: Set(change.partner_id.map(|p| p.to_string())),
        event_type: Set(event_type.to_owned()),
        resource_id: Set(change.resource_id.clone()),
        payload: Set(payload),
        created_at: Set(m.now),
        seq: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// What this process knows about the outbox: that events were written (the
/// sequencer wakes) and the highest position given (watchers wake). Other
/// replicas' events are found by the sequencer's and watchers' periodic
/// looks.
#[derive(Debug)]
pub struct OutboxSignals {
    written: Notify,
    sequenced: watch::Sender<i64>,
}

impl Default for OutboxSignals {
    fn default() -> Self {
        Self {
            written: Notify::new(),
            sequenced: watch::channel(0).0,
        }
    }
}

impl OutboxSignals {
    /// Called after a transaction that appended events committed.
    pub fn written(&self) {
        self.written.notify_one();
    }

    /// Waits until events were written (at most one wake-up is kept).
    pub async fn wait_written(&self) {
        self.written.notified().await;
    }

    /// The highest position given, and its changes.
    pub fn sequenced(&self) -> watch::Receiver<i64> {
        self.sequenced.subscribe()
    }
}

/// Numbers the committed events that have no position yet, in id order,
/// after the highest position given; returns how many it numbered. Wakes
/// this process's watchers.
pub async fn sequence(db: &Db) -> Result<u64, KernelError> {
    let tx = db.begin_write().await?;
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})"))
            .await?;
    }
    let last: Option<Option<i64>> = outbox_event::Entity::find()
        .select_only()
        .column_as(outbox_event::Column::Seq.max(), "max_seq")
        .into_tuple()
        .one(&*tx)
        .await?;
    let mut next = last.flatten().unwrap_or(0);
    let pending: Vec<String> = outbox_event::Entity::find()
        .select_only()
        .column(outbox_event::Column::Id)
        .filter(outbox_event::Column::Seq.is_null())
        .order_by_asc(outbox_event::Column::Id)
        .limit(SEQUENCE_BATCH)
        .into_tuple()
        .all(&*tx)
        .await?;
    for id in &pending {
        next += 1;
        outbox_event::Entity::update_many()
            .col_expr(outbox_event::Column::Seq, Expr::value(next))
            .filter(outbox_event::Column::Id.eq(id.as_str()))
            .exec(&*tx)
            .await?;
    }
    tx.commit().await?;
    // Watchers wake only when something new was numbered.
    db.outbox().sequenced.send_if_modified(|last| {
        let moved = *last != next;
        *last = next;
        moved
    });
    Ok(pending.len() as u64)
}

/// One sequenced event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub seq: i64,
    pub partner_id: Option<String>,
    pub event_type: String,
    pub resource_id: String,
    pub payload: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What a read of events is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// The type prefixes the reader may see (`customer.`, …): nothing else
    /// is read; empty reads nothing.
    pub readable: Vec<&'static str>,
    /// Only these types; empty: every type.
    pub event_types: Vec<String>,
    /// Only this resource.
    pub resource_id: Option<String>,
}

/// Up to `limit` sequenced events of `partner` after position `after`, in
/// position order.
pub async fn events_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    after: i64,
    filter: &EventFilter,
    limit: u64,
) -> Result<Vec<Event>, KernelError> {
    if filter.readable.is_empty() {
        return Ok(Vec::new());
    }
    let readable = filter
        .readable
        .iter()
        .fold(Condition::any(), |any, prefix| {
            any.add(outbox_event::Column::EventType.like(crate::like::prefix_like(prefix)))
        });
    let mut q = outbox_event::Entity::find()
        .filter(outbox_event::Column::PartnerId.eq(partner.to_string()))
        .filter(outbox_event::Column::Seq.gt(after))
        .filter(readable);
    if !filter.event_types.is_empty() {
        q = q.filter(outbox_event::Column::EventType.is_in(filter.event_types.clone()));
    }
    if let Some(resource) = &filter.resource_id {
        q = q.filter(outbox_event::Column::ResourceId.eq(resource.as_str()));
    }
    let rows = q
        .order_by_asc(outbox_event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?;
    rows.into_iter().map(sequenced).collect()
}

/// Up to `limit` sequenced events of `partner` after position `after`, of
/// every type, in position order: for pushing them to the partner's
/// webhooks, which choose among them themselves and must move past the rest.
pub async fn all_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    after: i64,
    limit: u64,
) -> Result<Vec<Event>, KernelError> {
    let rows = outbox_event::Entity::find()
        .filter(outbox_event::Column::PartnerId.eq(partner.to_string()))
        .filter(outbox_event::Column::Seq.gt(after))
        .order_by_asc(outbox_event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?;
    rows.into_iter().map(sequenced).collect()
}

/// One event of `partner` by id, if it is sequenced.
pub async fn one_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: EventId,
) -> Result<Option<Event>, KernelError> {
    let row = outbox_event::Entity::find_by_id(id.to_string())
        .filter(outbox_event::Column::PartnerId.eq(partner.to_string()))
        .filter(outbox_event::Column::Seq.is_not_null())
        .one(conn)
        .await?;
    row.map(sequenced).transpose()
}

fn sequenced(m: outbox_event::Model) -> Result<Event, KernelError> {
    Ok(Event {
        seq: m
            .seq
            .ok_or_else(|| KernelError::Corrupt(format!("event {} unsequenced", m.id)))?,
        id: m.id,
        partner_id: m.partner_id,
        event_type: m.event_type,
        resource_id: m.resource_id,
        payload: m.payload,
        created_at: m.created_at,
    })
}
