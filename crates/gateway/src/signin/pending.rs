//! What sign-in refusals keep in memory, so that nobody can make the server
//! write a row per attempt:
//!
//! - [`MemoryThrottle`]: the counters of subjects that do not exist (unknown
//!   usernames and access keys). They lock exactly like known ones, so a lock
//!   reveals nothing, but they are never written: a stream of made-up names
//!   would otherwise grow the throttle table without bound.
//! - [`PendingRefusals`]: refusals not written yet — attempts refused unchecked
//!   while a known subject is locked, and every refusal of an unknown one.
//!   They are counted here and written by [`crate::Gateway::flush_refusals`]
//!   (every few seconds, and at shutdown) into one audit record per subject
//!   and run, and one per method for all unknown subjects.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use partner_kernel::ids::{AuditId, PartnerId};

use super::policy::{self, Counter, Verdict};
use crate::holder::Holder;

/// Entries beyond this are dropped wholesale (after the spent ones): the
/// bound on what a flood of made-up names can make the server hold.
const MAX_ENTRIES: usize = 100_000;
/// Names an aggregate of unknown subjects keeps as examples.
const SAMPLES: usize = 5;

/// Per-process counters of subjects that do not exist.
#[derive(Debug, Default)]
pub struct MemoryThrottle {
    counters: Mutex<HashMap<String, Counter>>,
}

impl MemoryThrottle {
    /// [`policy::charge`] on the in-memory counter of `subject`.
    pub fn charge(&self, subject: &str, now: DateTime<Utc>) -> Verdict {
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let verdict = policy::charge(counters.get(subject).copied(), now);
        if let Verdict::Check { counter, .. } = verdict {
            if counters.len() >= MAX_ENTRIES && !counters.contains_key(subject) {
                counters.retain(|_, c| !policy::is_spent(c, now));
                if counters.len() >= MAX_ENTRIES {
                    counters.clear();
                }
            }
            counters.insert(subject.to_owned(), counter);
        }
        verdict
    }

    /// [`policy::failed`] on the in-memory counter of `subject`.
    pub fn fail(&self, subject: &str, now: DateTime<Utc>) {
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = counters.get_mut(subject) {
            *c = policy::failed(*c, now);
        }
    }
}

/// Who was refused: a known subject (its throttle key, and the user the
/// credential names) or an unknown one.
#[derive(Debug, Clone)]
pub struct Refused {
    pub method: &'static str,
    /// The throttle key, e.g. `login:acme`.
    pub subject: String,
    /// What was presented: the username or the access key id.
    pub presented: String,
    /// Who the credential names (a user or a customer) and its partner;
    /// `None` when unknown.
    pub target: Option<(Holder, Option<PartnerId>)>,
}

/// Refusals of one known subject in one run, not written yet.
#[derive(Debug, Clone)]
pub struct KnownPending {
    pub who: Refused,
    /// The audit record of the run they belong to, when it had one already.
    pub run_record: Option<AuditId>,
    pub counts: BTreeMap<&'static str, u32>,
    pub last: DateTime<Utc>,
}

/// Refusals of unknown subjects of one method not written yet.
#[derive(Debug, Clone, Default)]
pub struct UnknownPending {
    pub counts: BTreeMap<&'static str, u32>,
    pub samples: Vec<String>,
    pub last: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
struct Inner {
    known: HashMap<(String, Option<AuditId>), KnownPending>,
    unknown: BTreeMap<&'static str, UnknownPending>,
    /// The aggregate record each method's unknown refusals go on counting in.
    unknown_records: BTreeMap<&'static str, (AuditId, DateTime<Utc>)>,
}

/// Refusals counted in memory until the next flush.
#[derive(Debug, Default)]
pub struct PendingRefusals {
    inner: Mutex<Inner>,
}

/// What a flush takes out.
#[derive(Debug, Default)]
pub struct Drained {
    pub known: Vec<KnownPending>,
    pub unknown: Vec<(&'static str, UnknownPending)>,
}

impl PendingRefusals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one refusal answered with `reason`; `run_record` is the audit
    /// record of the known subject's run, when it has one.
    pub fn count(
        &self,
        who: &Refused,
        run_record: Option<AuditId>,
        reason: &'static str,
        now: DateTime<Utc>,
    ) {
        let mut inner = self.lock();
        if who.target.is_some() && inner.known.len() < MAX_ENTRIES {
            let entry = inner
                .known
                .entry((who.subject.clone(), run_record))
                .or_insert_with(|| KnownPending {
                    who: who.clone(),
                    run_record,
                    counts: BTreeMap::new(),
                    last: now,
                });
            *entry.counts.entry(reason).or_default() += 1;
            entry.last = now;
            return;
        }
        // Unknown subjects (and, past the bound, known ones) are counted
        // together per method.
        let entry = inner.unknown.entry(who.method).or_default();
        *entry.counts.entry(reason).or_default() += 1;
        entry.last = Some(now);
        if entry.samples.len() < SAMPLES && !entry.samples.contains(&who.presented) {
            entry.samples.push(who.presented.chars().take(64).collect());
        }
    }

    /// Takes everything pending.
    pub fn drain(&self) -> Drained {
        let mut inner = self.lock();
        Drained {
            known: inner.known.drain().map(|(_, v)| v).collect(),
            unknown: std::mem::take(&mut inner.unknown).into_iter().collect(),
        }
    }

    /// Puts back what a failed flush could not write.
    pub fn restore(&self, drained: Drained) {
        let mut inner = self.lock();
        for k in drained.known {
            let entry = inner
                .known
                .entry((k.who.subject.clone(), k.run_record))
                .or_insert_with(|| KnownPending {
                    counts: BTreeMap::new(),
                    ..k.clone()
                });
            for (reason, n) in k.counts {
                *entry.counts.entry(reason).or_default() += n;
            }
        }
        for (method, u) in drained.unknown {
            let entry = inner.unknown.entry(method).or_default();
            for (reason, n) in u.counts {
                *entry.counts.entry(reason).or_default() += n;
            }
            entry.last = entry.last.max(u.last);
        }
    }

    /// The aggregate record of `method`'s unknown refusals, if one was opened
    /// since `since`.
    pub fn unknown_record(&self, method: &'static str, since: DateTime<Utc>) -> Option<AuditId> {
        self.lock()
            .unknown_records
            .get(method)
            .filter(|(_, opened)| *opened >= since)
            .map(|(id, _)| *id)
    }

    /// Remembers the aggregate record of `method`'s unknown refusals.
    pub fn set_unknown_record(&self, method: &'static str, id: AuditId, opened: DateTime<Utc>) {
        let mut inner = self.lock();
        let keep = inner
            .unknown_records
            .get(method)
            .is_some_and(|(known, _)| *known == id);
        if !keep {
            inner.unknown_records.insert(method, (id, opened));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partner_kernel::ids::UserId;

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn who(name: &str, known: bool) -> Refused {
        Refused {
            method: "m",
            subject: format!("login:{name}"),
            presented: name.to_owned(),
            target: known.then(|| (Holder::User(UserId::generate()), None)),
        }
    }

    #[test]
    fn unknown_subjects_lock_like_known_ones_without_a_row() {
        let t = MemoryThrottle::default();
        let checked = (0..60)
            .filter(|_| matches!(t.charge("login:ghost", at()), Verdict::Check { .. }))
            .count();
        assert_eq!(checked, policy::FREE_ATTEMPTS as usize);
        for _ in 0..checked {
            t.fail("login:ghost", at());
        }
        assert_eq!(
            t.charge("login:ghost", at()),
            Verdict::Locked(std::time::Duration::from_secs(2))
        );
    }

    #[test]
    fn known_refusals_are_kept_per_subject_and_unknown_ones_per_method() {
        let p = PendingRefusals::default();
        for _ in 0..3 {
            p.count(&who("acme", true), None, "TOO_MANY_FAILED_ATTEMPTS", at());
        }
        for i in 0..100 {
            p.count(
                &who(&format!("ghost{i}"), false),
                None,
                "INVALID_CREDENTIALS",
                at(),
            );
        }
        let drained = p.drain();
        assert_eq!(drained.known.len(), 1);
        assert_eq!(
            drained.known[0].counts.get("TOO_MANY_FAILED_ATTEMPTS"),
            Some(&3)
        );
        assert_eq!(drained.unknown.len(), 1);
        let (_, unknown) = &drained.unknown[0];
        assert_eq!(unknown.counts.get("INVALID_CREDENTIALS"), Some(&100));
        assert_eq!(unknown.samples.len(), SAMPLES);
        assert!(p.drain().known.is_empty());
        p.restore(drained);
        assert_eq!(p.drain().known.len(), 1);
    }
}
