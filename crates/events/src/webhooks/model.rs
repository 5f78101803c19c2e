//! Endpoints and deliveries as the API shows them, the statuses a delivery
//! passes through, and when a failed one is tried again.

use chrono::{DateTime, Duration, Utc};
use partner_api::events::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;

use super::entity::{delivery, endpoint};

/// Failed attempts are retried until this long after the delivery was queued.
pub const RETRY_WINDOW_HOURS: i64 = 24;
/// The first retry waits this long; each next one twice as long as the last…
const FIRST_RETRY_SECS: i64 = 10;
/// …up to this.
const LONGEST_RETRY_SECS: i64 = 4 * 3600;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Succeeded,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
        }
    }

    pub fn from_wire(raw: i32) -> Option<Option<Status>> {
        match pb::DeliveryStatus::try_from(raw).ok()? {
            pb::DeliveryStatus::Unspecified => Some(None),
            pb::DeliveryStatus::Pending => Some(Some(Status::Pending)),
            pb::DeliveryStatus::Succeeded => Some(Some(Status::Succeeded)),
            pb::DeliveryStatus::Failed => Some(Some(Status::Failed)),
        }
    }

    fn to_proto(stored: &str) -> pb::DeliveryStatus {
        match stored {
            "PENDING" => pb::DeliveryStatus::Pending,
            "SUCCEEDED" => pb::DeliveryStatus::Succeeded,
            "FAILED" => pb::DeliveryStatus::Failed,
            _ => pb::DeliveryStatus::Unspecified,
        }
    }
}

/// How long to wait after the `attempts`-th failed attempt.
pub fn retry_delay(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Duration::seconds((FIRST_RETRY_SECS << doublings).min(LONGEST_RETRY_SECS))
}

/// When the next attempt is due after the `attempts`-th failed at `now`, or
/// `None` when it would fall outside the retry window that began at `first`
/// (when the delivery was queued).
pub fn next_attempt(
    first: DateTime<Utc>,
    attempts: i32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let next = now + retry_delay(attempts);
    (next <= first + Duration::hours(RETRY_WINDOW_HOURS)).then_some(next)
}

/// A JSON array of strings stored in a text column.
pub fn strings_of(stored: &str) -> Result<Vec<String>, KernelError> {
    serde_json::from_str(stored)
        .map_err(|e| KernelError::Corrupt(format!("stored webhook list: {e}")))
}

pub fn endpoint_to_proto(row: &endpoint::Model) -> Result<pb::WebhookEndpoint, KernelError> {
    Ok(pb::WebhookEndpoint {
        id: row.id.clone(),
        partner_id: row.partner_id.clone(),
        url: row.url.clone(),
        description: row.description.clone(),
        event_types: strings_of(&row.event_types)?,
        disabled: row.disabled,
        identity_provider_id: row.identity_provider_id.clone().unwrap_or_default(),
        cursor: row.cursor.to_string(),
        create_time: Some(to_proto_timestamp(row.created_at)),
        update_time: Some(to_proto_timestamp(row.updated_at)),
        previous_secret_expire_time: row.previous_secret_expires_at.map(to_proto_timestamp),
    })
}

/// What the audit log keeps of an endpoint (never its secret).
pub fn endpoint_summary(row: &endpoint::Model) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "url": row.url,
        "description": row.description,
        "event_types": strings_of(&row.event_types).unwrap_or_default(),
        "disabled": row.disabled,
        "identity_provider_id": row.identity_provider_id,
        "previous_secret_expires_at": row.previous_secret_expires_at,
    })
}

pub fn delivery_to_proto(row: &delivery::Model) -> pb::Delivery {
    let pending = row.status == Status::Pending.as_str();
    pb::Delivery {
        id: row.id.clone(),
        endpoint_id: row.endpoint_id.clone(),
        event_id: row.event_id.clone(),
        event_type: row.event_type.clone(),
        status: Status::to_proto(&row.status) as i32,
        attempts: row.attempts,
        last_response_code: row.last_response_code,
        last_error: row.last_error.clone(),
        last_response_excerpt: row.last_response_excerpt.clone(),
        next_attempt_time: pending.then(|| to_proto_timestamp(row.next_attempt_at)),
        create_time: Some(to_proto_timestamp(row.created_at)),
        deliver_time: row.delivered_at.map(to_proto_timestamp),
        manual: row.manual,
    }
}

/// What the audit log keeps of a queued delivery.
pub fn delivery_summary(row: &delivery::Model) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "endpoint_id": row.endpoint_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_for_a_day() {
        assert_eq!(retry_delay(1), Duration::seconds(10));
        assert_eq!(retry_delay(2), Duration::seconds(20));
        assert_eq!(retry_delay(5), Duration::seconds(160));
        assert_eq!(retry_delay(12), Duration::hours(4));
        assert_eq!(retry_delay(40), Duration::hours(4));
        let first = DateTime::<Utc>::UNIX_EPOCH;
        let (mut now, mut attempts) = (first, 1);
        while let Some(next) = next_attempt(first, attempts, now) {
            now = next;
            attempts += 1;
        }
        assert!(now <= first + Duration::hours(24));
        assert!(now > first + Duration::hours(20), "gave up early: {now}");
        assert!((10..=20).contains(&attempts), "{attempts} attempts");
    }
}
