//! Signing in with a password (`Login`) or an access key
//! (`ExchangeAccessKey`), throttled per username and per key id.
//!
//! An attempt goes: cheap checks (the hashing queue has room, the subject is
//! not locked) → the attempt is charged to its subject, atomically with the
//! decision to check it ([`policy`]) → the credential is checked → a success
//! opens the session and clears the counter in one transaction; a refusal is
//! counted in the subject's audit record for the run. Known subjects keep
//! their counters in the database (every replica counts the same attempts);
//! unknown ones in memory ([`pending`]), so they write nothing per attempt.

pub mod current_password;
pub mod pending;
pub mod policy;
pub mod store;

use chrono::{DateTime, Utc};
use partner_accounts::password::Reserved;
use partner_api::iam::v1 as pb;
use partner_customers::principals::SignInCustomer;
use partner_kernel::audit::{self, Refusals};
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::ids::{AccessKeyId, AuditId, CustomerId};
use partner_kernel::time;

use self::pending::Refused;
use self::policy::Verdict;
use crate::access_keys::{self, KeyState};
use crate::error::GatewayError;
use crate::holder::Holder;
use crate::service::{Gateway, admit, admit_customer};
use crate::sessions::{NewSession, insert_session};
use crate::tokens::{self, Subject};

pub(crate) const LOGIN: &str = "partner.iam.v1.AuthService/Login";
pub(crate) const EXCHANGE: &str = "partner.iam.v1.AuthService/ExchangeAccessKey";
pub(crate) const CUSTOMER_LOGIN: &str = "partner.iam.v1.AuthService/CustomerLogin";

/// How long the aggregate audit record of unknown subjects keeps counting
/// before a new one is opened.
const UNKNOWN_RECORD_SPAN: chrono::Duration = chrono::Duration::hours(1);

/// The ErrorInfo reason of a refused sign-in, as audited.
fn refusal_reason(e: &GatewayError) -> &'static str {
    match e {
        GatewayError::UserDisabled => "USER_DISABLED",
        GatewayError::UserDeleted => "USER_DELETED",
        GatewayError::PartnerSuspended => "PARTNER_SUSPENDED",
        GatewayError::PartnerTerminated => "PARTNER_TERMINATED",
        GatewayError::AccessKeyDisabled => "ACCESS_KEY_DISABLED",
        GatewayError::AccessKeyInvalid => "ACCESS_KEY_INVALID",
        GatewayError::InvalidCredentials => "INVALID_CREDENTIALS",
        GatewayError::TooManyFailedAttempts { .. } => "TOO_MANY_FAILED_ATTEMPTS",
        GatewayError::CustomerFrozen => "CUSTOMER_FROZEN",
        GatewayError::UnknownMethod
        | GatewayError::TokenMissing
        | GatewayError::TokenInvalid
        | GatewayError::TokenExpired
        | GatewayError::SessionRevoked
        | GatewayError::RefreshTokenInvalid
        | GatewayError::RefreshTokenReused
        | GatewayError::SigningKeyNotFound
        | GatewayError::SigningKeyStateConflict { .. }
        | GatewayError::AccessKeyNotFound
        | GatewayError::AccessKeyStateConflict { .. }
        | GatewayError::AccessKeyLimitReached { .. }
        | GatewayError::Customers(_)
        | GatewayError::Keys(_)
        | GatewayError::Accounts(_)
        | GatewayError::Kernel(_) => "REFUSED",
    }
}

impl Gateway {
    /// Checks a username and password and opens a session.
    pub async fn login(
        &self,
        username: &str,
        password: String,
    ) -> Result<pb::TokenPair, GatewayError> {
        let now = self.clock.now();
        // A full hashing queue refuses before anything is charged or written.
        let hashing = self.reserve_hashing()?;
        let candidate = self.accounts.find_login(username).await?;
        let who = Refused {
            method: LOGIN,
            subject: format!("login:{username}"),
            presented: username.to_owned(),
            target: candidate
                .as_ref()
                .map(|c| (Holder::User(c.user.id), c.user.partner_id)),
        };
        let hash = candidate.as_ref().map(|c| c.password_hash.clone());
        let candidate = self
            .check_password(&who, hashing, password, hash, candidate, now)
            .await?;
        if let Err(e) = admit(candidate.user.state, candidate.partner_state) {
            return Err(self.refuse(&who, e, now).await);
        }
        let new = NewSession::of_user(candidate.user.id, candidate.user.partner_id);
        self.open_session(new, Some(&who.subject), now).await
    }

    /// Checks a customer's sign-in name (account name, email or mobile) and
    /// password and opens a session scoped to the customer. Throttled like
    /// [`Gateway::login`], on its own subjects.
    pub async fn customer_login(
        &self,
        login: &str,
        password: String,
    ) -> Result<(CustomerId, pb::TokenPair), GatewayError> {
        let now = self.clock.now();
        let hashing = self.reserve_hashing()?;
        let candidate = self.customers.find_sign_in(login).await?;
        // A customer is one subject whichever of its three names is tried
        // (and its id fits the subject column, however long its email).
        let subject = match &candidate {
            Some(c) => format!("customer_login:{}", c.id),
            None => format!("customer_login:{login}"),
        };
        let who = Refused {
            method: CUSTOMER_LOGIN,
            subject,
            presented: login.to_owned(),
            target: candidate
                .as_ref()
                .map(|c| (Holder::Customer(c.id), c.status.partner_id)),
        };
        // A customer without a password signs in only through its partner's
        // SSO: to this check it is like a wrong password.
        let hash = candidate.as_ref().and_then(|c| c.password_hash.clone());
        let candidate = self
            .check_password(&who, hashing, password, hash, candidate, now)
            .await?;
        if let Err(e) = admit_customer(candidate.status) {
            return Err(self.refuse(&who, e, now).await);
        }
        let new = NewSession::of_customer(candidate.id, candidate.status.partner_id);
        Ok((
            candidate.id,
            self.open_session(new, Some(&who.subject), now).await?,
        ))
    }

    /// Opens a session for a customer its partner's identity provider
    /// vouched for (a verified SAML assertion), with the status the caller
    /// read while mapping it: admitted like a password sign-in, bound to the
    /// partner the customer has.
    pub async fn federated_customer_session(
        &self,
        customer: &SignInCustomer,
    ) -> Result<pb::TokenPair, GatewayError> {
        let now = self.clock.now();
        admit_customer(customer.status)?;
        let new = NewSession::of_customer(customer.id, customer.status.partner_id);
        // No password was checked: the customer's password throttle keeps
        // counting (an SSO sign-in must not give a guesser fresh attempts).
        self.open_session(new, None, now).await
    }

    /// A place in the hashing queue; a full queue refuses before anything
    /// is charged or written.
    fn reserve_hashing(&self) -> Result<Reserved, GatewayError> {
        Ok(self
            .accounts
            .passwords()
            .reserve()
            .map_err(partner_accounts::AccountsError::from)?)
    }

    /// Charges the attempt to `who`, then checks `password` against `hash`
    /// (spending the same time when there is none, for unknown subjects);
    /// returns `candidate` when it matches, else counts the refusal.
    async fn check_password<T>(
        &self,
        who: &Refused,
        hashing: Reserved,
        password: String,
        hash: Option<String>,
        candidate: Option<T>,
        now: DateTime<Utc>,
    ) -> Result<T, GatewayError> {
        self.charge(who, now).await?;
        let verified = hashing
            .verify(password, hash)
            .await
            .map_err(partner_accounts::AccountsError::from)?;
        match candidate {
            Some(c) if verified => Ok(c),
            Some(_) | None => Err(self
                .refuse(who, GatewayError::InvalidCredentials, now)
                .await),
        }
    }

    /// Opens `new` (clearing the counter of `throttle_subject`, if any) and issues
    /// its tokens.
    async fn open_session(
        &self,
        new: NewSession,
        throttle_subject: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<pb::TokenPair, GatewayError> {
        let (session, refresh) = self.sessions.open(new, throttle_subject, now).await?;
        let subject = Subject {
            holder: new.holder,
            session,
            customer: new.customer,
        };
        self.token_pair(subject, refresh)
    }

    /// Checks an access key id and secret and issues an access token for the
    /// key's user, on a new session tied to the key.
    pub async fn exchange_access_key(
        &self,
        id: AccessKeyId,
        secret: &str,
    ) -> Result<pb::ExchangeAccessKeyResponse, GatewayError> {
        let now = self.clock.now();
        let key = access_keys::store::key_for_exchange(self.db.conn(), id).await?;
        let who = Refused {
            method: EXCHANGE,
            subject: format!("access_key:{id}"),
            presented: id.to_string(),
            target: key
                .as_ref()
                .map(|(k, _)| (Holder::User(k.user_id), Some(k.partner_id))),
        };
        self.charge(&who, now).await?;
        let key = match key {
            Some((k, hash)) if access_keys::secret_matches(&hash, secret) => k,
            _ => return Err(self.refuse(&who, GatewayError::AccessKeyInvalid, now).await),
        };
        // Only a holder of the secret learns that the key is disabled.
        if key.state != KeyState::Active {
            return Err(self
                .refuse(&who, GatewayError::AccessKeyDisabled, now)
                .await);
        }
        let (user_id, partner_id) = (key.user_id, key.partner_id);
        let status = self
            .accounts
            .principal_status(user_id)
            .await?
            .ok_or(GatewayError::AccessKeyInvalid)?;
        if let Err(e) = admit(status.user_state, status.partner_state) {
            return Err(self.refuse(&who, e, now).await);
        }
        let expires_at = time::checked_add(now, self.lifetimes.access)
            .map_err(|e| GatewayError::Keys(format!("token lifetime: {e}")))?;
        let tx = self.db.begin_write().await?;
        // Marks the use and locks the key: a concurrent disable or delete
        // either finds this session and revokes it, or wins and we stop here.
        if access_keys::store::mark_used(&*tx, partner_id, id, now).await? != 1 {
            return Err(GatewayError::AccessKeyDisabled);
        }
        let new = NewSession {
            access_key: Some(id),
            ..NewSession::of_user(user_id, Some(partner_id))
        };
        let session = insert_session(&*tx, new, now, expires_at).await?;
        store::reset(&*tx, &who.subject).await?;
        tx.commit().await?;
        let subject = Subject {
            holder: Holder::User(user_id),
            session,
            customer: None,
        };
        let (access, access_expires) =
            tokens::issue(&self.keys.ring(), subject, now, self.lifetimes.access)?;
        Ok(pb::ExchangeAccessKeyResponse {
            access_token: access,
            access_token_expire_time: Some(to_proto_timestamp(access_expires)),
            token_type: "Bearer".into(),
        })
    }

    /// Charges an attempt to its subject, or refuses it unchecked while the
    /// subject is locked. A locked known subject costs one read and no write:
    /// its refusal is counted in memory and written with the next flush.
    async fn charge(&self, who: &Refused, now: DateTime<Utc>) -> Result<(), GatewayError> {
        let (verdict, run_record) = if who.target.is_none() {
            (self.unknown_throttle.charge(&who.subject, now), None)
        } else {
            let stored = store::counter(self.db.conn(), &who.subject).await?;
            match stored.map(|(counter, record)| (policy::charge(Some(counter), now), record)) {
                Some((locked @ Verdict::Locked(_), record)) => (locked, record),
                Some((Verdict::Check { .. }, _)) | None => {
                    let tx = self.db.begin_write().await?;
                    let decided = store::charge(&*tx, &who.subject, now).await?;
                    tx.commit().await?;
                    decided
                }
            }
        };
        match verdict {
            Verdict::Check { .. } => Ok(()),
            Verdict::Locked(retry_after) => {
                let refusal = GatewayError::TooManyFailedAttempts { retry_after };
                self.pending
                    .count(who, run_record, refusal_reason(&refusal), now);
                Err(refusal)
            }
        }
    }

    /// Counts a checked attempt's refusal: in the subject's audit record for
    /// its run when the subject is known, in memory otherwise. Returns the
    /// error to answer with: `refusal`, unless the bookkeeping failed.
    async fn refuse(
        &self,
        who: &Refused,
        refusal: GatewayError,
        now: DateTime<Utc>,
    ) -> GatewayError {
        let reason = refusal_reason(&refusal);
        if who.target.is_none() {
            self.unknown_throttle.fail(&who.subject, now);
            self.pending.count(who, None, reason, now);
            return refusal;
        }
        let counts = std::collections::BTreeMap::from([(reason, 1)]);
        match self.write_known(who, None, counts, now, true).await {
            Ok(()) => refusal,
            Err(e) => e,
        }
    }

    /// Writes refusals of a known subject: into `run_record` when given, else
    /// into the record of the subject's current run (a new one if it has
    /// none); with `settle`, also settles the checked attempt as failed.
    async fn write_known(
        &self,
        who: &Refused,
        run_record: Option<AuditId>,
        counts: std::collections::BTreeMap<&'static str, u32>,
        now: DateTime<Utc>,
        settle: bool,
    ) -> Result<(), GatewayError> {
        let refusals = Refusals {
            method: who.method,
            resource_id: who.presented.clone(),
            target_user_id: who.target.and_then(|(h, _)| h.user()),
            target_customer_id: who.target.and_then(|(h, _)| match h {
                Holder::Customer(c) => Some(c),
                Holder::User(_) => None,
            }),
            partner_id: who.target.and_then(|(_, p)| p),
            counts,
            detail: None,
            now,
        };
        let tx = self.db.begin_write().await?;
        match run_record {
            Some(record) => {
                audit::record_refusals(&*tx, Some(record), refusals).await?;
            }
            None => store::note_refusals(&*tx, &who.subject, refusals, settle).await?,
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes the refusals counted in memory: each known subject's into its
    /// run's audit record, unknown subjects' into one aggregate record per
    /// method (reused for an hour). Then sweeps the counters that no longer
    /// matter. Run every few seconds and at shutdown.
    pub async fn flush_refusals(&self) -> Result<(), GatewayError> {
        let now = self.clock.now();
        let mut drained = self.pending.drain();
        while let Some(known) = drained.known.pop() {
            let written = self
                .write_known(
                    &known.who,
                    known.run_record,
                    known.counts.clone(),
                    known.last,
                    false,
                )
                .await;
            if let Err(e) = written {
                // Kept for the next flush, with everything not written yet.
                drained.known.push(known);
                self.pending.restore(drained);
                return Err(e);
            }
        }
        while let Some((method, unknown)) = drained.unknown.pop() {
            if let Err(e) = self.write_unknown(method, &unknown, now).await {
                drained.unknown.push((method, unknown));
                self.pending.restore(drained);
                return Err(e);
            }
        }
        store::sweep(self.db.conn(), now).await?;
        Ok(())
    }

    /// Writes the refusals of unknown subjects of `method` into its aggregate
    /// record (a new one each [`UNKNOWN_RECORD_SPAN`]).
    async fn write_unknown(
        &self,
        method: &'static str,
        unknown: &pending::UnknownPending,
        now: DateTime<Utc>,
    ) -> Result<(), GatewayError> {
        let open = self
            .pending
            .unknown_record(method, now - UNKNOWN_RECORD_SPAN);
        let refusals = Refusals {
            method,
            resource_id: "(unknown)".into(),
            target_user_id: None,
            target_customer_id: None,
            partner_id: None,
            counts: unknown.counts.clone(),
            detail: Some(serde_json::json!({ "samples": unknown.samples })),
            now: unknown.last.unwrap_or(now),
        };
        let tx = self.db.begin_write().await?;
        let id = audit::record_refusals(&*tx, open, refusals).await?;
        tx.commit().await?;
        self.pending.set_unknown_record(method, id, now);
        Ok(())
    }
}
