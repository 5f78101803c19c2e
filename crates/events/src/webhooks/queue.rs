//! What an endpoint is due to receive: the partner's events after its
//! cursor that it receives, queued by the worker holding its lease, and the
//! test events and redeliveries partners ask for, queued behind them.

use chrono::{DateTime, SecondsFormat, Utc};
use partner_api::events::v1 as pb;
use partner_kernel::db::Db;
use partner_kernel::ids::{self, EventId, MessageId, PartnerId, WebhookDeliveryId};
use partner_kernel::mutation::Mutation;
use partner_kernel::outbox::{self, Event};
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::ConnectionTrait;

use super::entity::{delivery, endpoint};
use super::model::{Status, delivery_summary, delivery_to_proto, strings_of};
use super::{WebhookError, Webhooks, store};
use crate::access::{WEBHOOKS_MANAGE, WEBHOOKS_READ};

/// At most this many events are read per queueing round.
const QUEUE_BATCH: u64 = 200;

/// The type of the event `SendTestEvent` queues.
pub const TEST_EVENT_TYPE: &str = "webhook.test";

/// Whether endpoint `row` receives event `e`: of a type it names (or any
/// type its creator could read), and for an identity provider's endpoint,
/// made by that identity provider's sign-ins.
fn receives(row: &endpoint::Model, e: &Event) -> Result<bool, WebhookError> {
    let readable = strings_of(&row.readable)?;
    let types = strings_of(&row.event_types)?;
    let of_type = readable
        .iter()
        .any(|p| e.event_type.starts_with(p.as_str()))
        && (types.is_empty() || types.contains(&e.event_type));
    let of_source = match &row.identity_provider_id {
        Some(idp) => e.payload["identity_provider_id"].as_str() == Some(idp.as_str()),
        None => true,
    };
    Ok(of_type && of_source)
}

/// The body of an event's delivery (the Standard Webhooks payload shape).
fn event_body(e: &Event) -> String {
    serde_json::json!({
        "type": e.event_type,
        "timestamp": e.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": {
            "event_id": e.id,
            "cursor": e.seq.to_string(),
            "partner_id": e.partner_id,
            "resource_id": e.resource_id,
            "resource": e.payload,
        },
    })
    .to_string()
}

fn delivery_row(
    endpoint: &endpoint::Model,
    position: i64,
    (event_id, event_type, body): (String, String, String),
    manual: bool,
    now: DateTime<Utc>,
) -> delivery::Model {
    delivery::Model {
        id: WebhookDeliveryId::generate().to_string(),
        endpoint_id: endpoint.id.clone(),
        partner_id: endpoint.partner_id.clone(),
        position,
        event_id,
        event_type,
        body,
        manual,
        status: Status::Pending.as_str().to_owned(),
        attempts: 0,
        first_attempt_at: None,
        next_attempt_at: now,
        last_response_code: 0,
        last_error: String::new(),
        last_response_excerpt: String::new(),
        delivered_at: None,
        created_at: now,
    }
}

/// Queues the events after endpoint `row`'s cursor that it receives and
/// moves the cursor past every event read; returns how many events were
/// read (a full batch: call again). Nothing happens when another worker
/// moved the cursor first.
pub async fn queue_events(
    db: &Db,
    row: &endpoint::Model,
    now: DateTime<Utc>,
) -> Result<u64, WebhookError> {
    let partner = ids::parse_stored(&row.partner_id, PartnerId::parse)?;
    let events = outbox::all_of(db.conn(), partner, row.cursor, QUEUE_BATCH).await?;
    let Some(last) = events.last().map(|e| e.seq) else {
        return Ok(0);
    };
    let mut wanted = Vec::new();
    for e in &events {
        if receives(row, e)? {
            wanted.push(e);
        }
    }
    let tx = db.begin_write().await?;
    let count = i64::try_from(wanted.len()).unwrap_or(i64::MAX);
    let Some(first) = store::take_positions(&*tx, &row.id, count, Some((row.cursor, last))).await?
    else {
        return Ok(0);
    };
    for (position, e) in (first..).zip(wanted) {
        let message = (e.id.clone(), e.event_type.clone(), event_body(e));
        store::insert_delivery(&*tx, delivery_row(row, position, message, false, now)).await?;
    }
    tx.commit().await?;
    Ok(events.len() as u64)
}

/// Queues `message` for `endpoint` of `partner` behind what it is due to
/// receive; returns the delivery and its change for the audit log.
async fn queue_manual(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    endpoint: &endpoint::Model,
    message: (String, String, String),
    now: DateTime<Utc>,
) -> Result<(pb::Delivery, Change), WebhookError> {
    let position = store::take_positions(conn, &endpoint.id, 1, None)
        .await?
        .ok_or(WebhookError::EndpointNotFound)?;
    let row = delivery_row(endpoint, position, message, true, now);
    store::insert_delivery(conn, row.clone()).await?;
    let change = Change::of(Some(partner), &row.id).after(delivery_summary(&row));
    Ok((delivery_to_proto(&row), change))
}

impl Webhooks {
    /// Queues a `webhook.test` event for one endpoint.
    pub async fn send_test(
        &self,
        m: Mutation,
        endpoint_id: String,
    ) -> Result<pb::SendTestEventResponse, WebhookError> {
        let partner = m.principal.require_partner(WEBHOOKS_MANAGE)?;
        let now = m.now;
        write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let endpoint = store::endpoint_of(tx, partner, &endpoint_id)
                    .await?
                    .ok_or(WebhookError::EndpointNotFound)?;
                let id = MessageId::generate().to_string();
                let body = serde_json::json!({
                    "type": TEST_EVENT_TYPE,
                    "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
                    "data": { "message_id": id, "endpoint_id": endpoint.id },
                })
                .to_string();
                let message = (id, TEST_EVENT_TYPE.to_owned(), body);
                let (delivery, change) = queue_manual(tx, partner, &endpoint, message, now).await?;
                let response = pb::SendTestEventResponse {
                    delivery: Some(delivery),
                };
                Ok::<_, WebhookError>(Outcome::new(response, change))
            })
        })
        .await
    }

    /// Queues one of the partner's events for an endpoint again.
    pub async fn redeliver(
        &self,
        m: Mutation,
        endpoint_id: String,
        event_id: EventId,
    ) -> Result<pb::RedeliverEventResponse, WebhookError> {
        let partner = m.principal.require_partner(WEBHOOKS_MANAGE)?;
        let now = m.now;
        write::commit(&self.db, &m, move |tx| {
            Box::pin(async move {
                let endpoint = store::endpoint_of(tx, partner, &endpoint_id)
                    .await?
                    .ok_or(WebhookError::EndpointNotFound)?;
                let event = outbox::one_of(tx, partner, event_id)
                    .await?
                    .ok_or(WebhookError::EventNotFound)?;
                if !receives(&endpoint, &event)? {
                    return Err(WebhookError::EventNotFound);
                }
                let message = (
                    event.id.clone(),
                    event.event_type.clone(),
                    event_body(&event),
                );
                let (delivery, change) = queue_manual(tx, partner, &endpoint, message, now).await?;
                let response = pb::RedeliverEventResponse {
                    delivery: Some(delivery),
                };
                Ok::<_, WebhookError>(Outcome::new(response, change))
            })
        })
        .await
    }

    /// A page of an endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        p: &Principal,
        endpoint_id: &str,
        status: Option<Status>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Delivery>, WebhookError> {
        let partner = p.require_partner(WEBHOOKS_READ)?;
        let endpoint = store::endpoint_of(self.db.conn(), partner, endpoint_id)
            .await?
            .ok_or(WebhookError::EndpointNotFound)?;
        let scope = PageScope::new("ListDeliveries", &partner.to_string())
            .filter("endpoint", &endpoint.id)
            .filter("status", status.map_or("", Status::as_str));
        let now = self.clock.now();
        let after = self.pages.decode(&scope, token, now)?;
        let rows = store::deliveries(
            self.db.conn(),
            &endpoint.id,
            status,
            after.as_deref(),
            size + 1,
        )
        .await?;
        let page = self.pages.cut(rows, size, &scope, now, |d| d.id.clone());
        Ok(Page {
            items: page.items.iter().map(delivery_to_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }
}
