//! `partner.events.v1.EventService`.

use std::sync::Arc;
use std::time::Duration;

use partner_api::events::v1::{self as pb, event_service_server::EventService};
use partner_kernel::access::AccessTable;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::db::Db;
use partner_kernel::error::{KernelError, Refusal};
use partner_kernel::ids::PartnerId;
use partner_kernel::outbox::{self, Event, EventFilter};
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::access::EVENTS_READ;
use crate::quota::{WatchQuota, WatchSlot};

/// How often a watcher looks for events sequenced by another replica.
const POLL: Duration = Duration::from_secs(1);
/// Events a watcher reads per query.
const WATCH_BATCH: u64 = 100;
/// Events a watcher may have sent and the client not yet taken: beyond
/// this the watcher waits, so a slow client costs a bounded buffer.
const WATCH_BUFFER: usize = 16;
/// How long one watch stream lives: the caller's access (its account, its
/// session, its permissions) was checked when the stream opened.
const STREAM_LIFETIME: Duration = Duration::from_secs(300);
/// At most this many event types in one filter.
const MAX_TYPES: usize = 20;
/// Watch streams one partner may have open on this server at once.
pub const MAX_WATCHES_PER_PARTNER: usize = 32;

/// Serves `EventService`.
#[derive(Debug, Clone)]
pub struct EventsApi {
    db: Db,
    /// Who may read which events (each domain declares it).
    access: Arc<AccessTable>,
    /// Open watch streams per partner.
    watches: Arc<WatchQuota>,
    stopping: watch::Sender<bool>,
}

impl EventsApi {
    /// The API over `db`; `access` says who may read which events.
    pub fn new(db: Db, access: Arc<AccessTable>) -> Self {
        Self {
            db,
            access,
            watches: Arc::default(),
            stopping: watch::channel(false).0,
        }
    }

    /// The filter of a caller's read: what it asked for, narrowed to the
    /// event types its permissions let it read.
    fn narrowed(&self, p: &Principal, mut filter: EventFilter) -> EventFilter {
        filter.readable = self.access.readable_event_prefixes(&p.permissions);
        filter
    }

    /// Ends every watch stream (the server is stopping); clients reconnect
    /// with their last cursor.
    pub fn stop_watches(&self) {
        self.stopping.send_replace(true);
    }
}

/// A cursor: empty is the beginning, else the position of the last event read.
fn cursor(raw: &str) -> Result<i64, &'static str> {
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0 && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or("not a cursor of this stream")
}

fn filter(
    v: &mut Violations,
    event_types: Vec<String>,
    resource_id: String,
) -> Option<EventFilter> {
    if event_types.len() > MAX_TYPES {
        v.add("event_types", format!("at most {MAX_TYPES}"));
        return None;
    }
    let mut types = Vec::with_capacity(event_types.len());
    for (i, t) in event_types.into_iter().enumerate() {
        types.push(v.take(&format!("event_types[{i}]"), validate::text(&t, 1, 64))?);
    }
    let resource_id = v.take("resource_id", validate::filter(resource_id, 64))?;
    Some(EventFilter {
        readable: Vec::new(),
        event_types: types,
        resource_id,
    })
}

fn to_proto(e: Event) -> pb::Event {
    pb::Event {
        event_id: e.id,
        cursor: e.seq.to_string(),
        event_type: e.event_type,
        resource_id: e.resource_id,
        partner_id: e.partner_id.unwrap_or_default(),
        payload_json: e.payload.to_string(),
        create_time: Some(to_proto_timestamp(e.created_at)),
    }
}

fn status(e: KernelError) -> Status {
    Refusal::from(e).into()
}

fn partner_of(p: &Principal) -> Result<PartnerId, Status> {
    p.require_partner(EVENTS_READ).map_err(status)
}

#[tonic::async_trait]
impl EventService for EventsApi {
    async fn list_events(
        &self,
        req: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::ListEventsRequest {
            cursor: raw_cursor,
            page_size: size,
            event_types,
            resource_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let after = v.take("cursor", cursor(&raw_cursor));
        let size = v.take("page_size", page_size(size));
        let filter = filter(&mut v, event_types, resource_id);
        let ((after, size), filter) = v.finish_with(after.zip(size).zip(filter)).map_err(status)?;
        let partner = partner_of(&principal)?;
        let filter = self.narrowed(&principal, filter);
        let events = outbox::events_of(self.db.conn(), partner, after, &filter, size)
            .await
            .map_err(status)?;
        // An empty page hands the request's cursor back as it came (the
        // contract), so a reader polling from the start keeps "" until
        // there is something to read.
        let next_cursor = events
            .last()
            .map_or_else(|| raw_cursor.clone(), |e| e.seq.to_string());
        Ok(Response::new(pb::ListEventsResponse {
            events: events.into_iter().map(to_proto).collect(),
            next_cursor,
        }))
    }

    type WatchEventsStream = ReceiverStream<Result<pb::WatchEventsResponse, Status>>;

    async fn watch_events(
        &self,
        req: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::WatchEventsRequest {
            cursor: raw_cursor,
            event_types,
            resource_id,
        } = req.into_inner();
        let mut v = Violations::new();
        let after = v.take("cursor", cursor(&raw_cursor));
        let filter = filter(&mut v, event_types, resource_id);
        let (after, filter) = v.finish_with(after.zip(filter)).map_err(status)?;
        let partner = partner_of(&principal)?;
        let filter = self.narrowed(&principal, filter);
        let slot = self
            .watches
            .take(partner, MAX_WATCHES_PER_PARTNER)
            .ok_or_else(|| {
                Status::from(
                    Refusal::new(
                        tonic::Code::ResourceExhausted,
                        "TOO_MANY_WATCHES",
                        format!(
                            "at most {MAX_WATCHES_PER_PARTNER} watch streams per partner; close one"
                        ),
                    )
                    .with("limit", MAX_WATCHES_PER_PARTNER.to_string()),
                )
            })?;
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let watcher = Watcher {
            _slot: slot,
            db: self.db.clone(),
            partner,
            filter,
            ends_at: tokio::time::Instant::now() + STREAM_LIFETIME,
            stopping: self.stopping.subscribe(),
        };
        tokio::spawn(watcher.run(after, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// One watch stream's reader.
struct Watcher {
    /// Returned to the partner's quota when the watcher ends.
    _slot: WatchSlot,
    db: Db,
    partner: PartnerId,
    filter: EventFilter,
    /// When the stream ends, so that a caller whose access was taken away
    /// meanwhile is asked again (it reconnects with its cursor, through the
    /// authentication layer).
    ends_at: tokio::time::Instant,
    stopping: watch::Receiver<bool>,
}

type Sink = mpsc::Sender<Result<pb::WatchEventsResponse, Status>>;

impl Watcher {
    /// Sends every event after `after`, then each new one, until the client
    /// goes away or the server stops.
    async fn run(mut self, mut after: i64, tx: Sink) {
        let mut sequenced = self.db.outbox().sequenced();
        loop {
            if *self.stopping.borrow() || tokio::time::Instant::now() >= self.ends_at {
                return;
            }
            let batch = match outbox::events_of(
                self.db.conn(),
                self.partner,
                after,
                &self.filter,
                WATCH_BATCH,
            )
            .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    let _ = tx.send(Err(status(e))).await;
                    return;
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = sequenced.changed() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = self.stopping.changed() => return,
                    () = tokio::time::sleep_until(self.ends_at) => return,
                    () = tx.closed() => return,
                }
                continue;
            }
            for event in batch {
                after = event.seq;
                let message = pb::WatchEventsResponse {
                    event: Some(to_proto(event)),
                };
                // Waits while the client's buffer is full: backpressure, not memory.
                if tx.send(Ok(message)).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_positions() {
        assert_eq!(cursor(""), Ok(0));
        assert_eq!(cursor("42"), Ok(42));
        assert!(cursor("-1").is_err());
        assert!(cursor("+1").is_err());
        assert!(cursor("1e3").is_err());
        assert!(cursor("99999999999999999999").is_err());
    }
}
