//! Load generation: workers spread over HTTP/2 connections, each running one
//! call at a time in a bounded loop, recording the latency of every call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use partner_api::accounts::v1 as accounts;
use partner_api::accounts::v1::partner_service_client::PartnerServiceClient;
use partner_api::accounts::v1::user_service_client::UserServiceClient;
use partner_api::billing::v1 as billing;
use partner_api::billing::v1::funds_service_client::FundsServiceClient;
use partner_api::billing::v1::order_service_client::OrderServiceClient;
use partner_api::customers::v1 as customers;
use partner_api::customers::v1::customer_service_client::CustomerServiceClient;
use partner_api::iam::v1 as iam;
use partner_api::iam::v1::auth_service_client::AuthServiceClient;
use partner_api::pricing::v1 as pricing;
use partner_api::pricing::v1::rating_service_client::RatingServiceClient;
use tokio::sync::Barrier;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::BoxError;
use crate::raw::{BytesCodec, RawCall};

/// Password of the benchmark partner's master.
pub const MASTER_PASSWORD: &str = "benchmark-master-password";

/// Password of the benchmark partner's sub-users.
pub const USER_PASSWORD: &str = "benchmark-user-password";

/// A per-call deadline, so a hung call fails the run instead of stalling it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens `n` separate HTTP/2 connections to `uri`.
pub async fn connect(uri: &str, n: usize) -> Result<Vec<Channel>, BoxError> {
    let endpoint = Endpoint::from_shared(uri.to_owned())?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(CALL_TIMEOUT);
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        channels.push(endpoint.connect().await?);
    }
    Ok(channels)
}

/// One kind of call, with everything it needs.
#[derive(Debug, Clone)]
pub enum Call {
    /// `grpc.health.v1.Health/Check` for the whole server; must answer SERVING.
    Health,
    /// `PartnerService/GetPartner` of an existing partner; must answer OK
    /// with that partner.
    GetPartner {
        partner_id: String,
        bearer: MetadataValue<Ascii>,
    },
    /// `PartnerService/GetPartner` with a malformed id; must answer
    /// INVALID_ARGUMENT. It passes authentication but never reaches the
    /// database, which separates the cost of the two.
    GetPartnerMalformed { bearer: MetadataValue<Ascii> },
    /// `AuthService/Login` of the users in turn; must answer OK with an
    /// access token. (One user's concurrent sign-ins beyond five are refused
    /// by the throttle, so concurrent phases sign in different users.)
    Login {
        usernames: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
        password: String,
    },
    /// `UserService/GetUser` of the partner's users in turn (nothing caches
    /// users: every call reads the database); must answer OK with that user.
    GetUser {
        user_ids: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
        bearer: MetadataValue<Ascii>,
    },
    /// `UserService/ListUsers`, first page of `page_size`; must answer OK
    /// with a full page.
    ListUsers {
        page_size: i32,
        bearer: MetadataValue<Ascii>,
    },
    /// `CustomerService/GetCustomer` of ids drawn from `ids` in a scattered
    /// order (a multiplicative hash of a counter); must answer OK with that
    /// customer.
    GetCustomer {
        ids: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
        bearer: MetadataValue<Ascii>,
    },
    /// `CustomerService/ListCustomers` with `page_size`, after `page_token`,
    /// narrowed to `prefix`; must answer OK with a full page.
    ListCustomers {
        page_size: i32,
        page_token: String,
        prefix: String,
        bearer: MetadataValue<Ascii>,
    },
    /// `CustomerService/CreateCustomer` of new sales-platform accounts
    /// `{tag}-{n}`; must answer OK with a customer.
    CreateCustomer {
        xaccount_type: String,
        tag: String,
        next: Arc<AtomicUsize>,
        bearer: MetadataValue<Ascii>,
    },
    /// `RatingService/RatePeriodProducts` of `request`; must answer OK with
    /// a result per line.
    RatePeriod {
        request: Arc<pricing::RatePeriodProductsRequest>,
        bearer: MetadataValue<Ascii>,
    },
    /// `FundsService/TransferToCustomer` of one fen, from each pair's
    /// partner (its master's bearer) to its customer, the pairs in turn;
    /// must answer OK with a journal transaction.
    Transfer {
        pairs: Arc<Vec<(MetadataValue<Ascii>, String)>>,
        next: Arc<AtomicUsize>,
    },
    /// `OrderService/PayOrder` of the orders in turn, each with its coupon
    /// and the customer's cash; must answer OK with the order COMPLETED.
    /// Each order is paid once: the phase is bounded to fewer calls.
    PayOrder {
        orders: Arc<Vec<crate::orders::Waiting>>,
        next: Arc<AtomicUsize>,
    },
    /// A call of bytes encoded once, its answer read only as far as its
    /// check needs ([`crate::raw`]).
    Raw(RawCall),
}

/// The generated clients over one connection.
#[derive(Debug, Clone)]
pub struct Clients {
    health: HealthClient<Channel>,
    partners: PartnerServiceClient<Channel>,
    users: UserServiceClient<Channel>,
    auth: AuthServiceClient<Channel>,
    customers: CustomerServiceClient<Channel>,
    rating: RatingServiceClient<Channel>,
    funds: FundsServiceClient<Channel>,
    orders: OrderServiceClient<Channel>,
    raw: tonic::client::Grpc<Channel>,
}

fn with_bearer<T>(message: T, bearer: &MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

fn failed(what: &str, status: &tonic::Status) -> String {
    format!("{what} failed: {:?}: {}", status.code(), status.message())
}

impl Clients {
    /// Clients over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            health: HealthClient::new(channel.clone()),
            partners: PartnerServiceClient::new(channel.clone()),
            users: UserServiceClient::new(channel.clone()),
            auth: AuthServiceClient::new(channel.clone()),
            customers: CustomerServiceClient::new(channel.clone()),
            rating: RatingServiceClient::new(channel.clone()),
            funds: FundsServiceClient::new(channel.clone()),
            orders: OrderServiceClient::new(channel.clone()),
            raw: tonic::client::Grpc::new(channel),
        }
    }

    /// Makes one call; any answer but the expected one is an error.
    pub async fn call(&mut self, call: &Call) -> Result<(), String> {
        match call {
            Call::Raw(raw) => {
                self.raw
                    .ready()
                    .await
                    .map_err(|e| format!("{}: {e}", raw.name))?;
                let mut request = tonic::Request::new(raw.request.clone());
                if let Some(bearer) = &raw.bearer {
                    request
                        .metadata_mut()
                        .insert("authorization", bearer.clone());
                }
                let reply = self
                    .raw
                    .unary(request, raw.path.clone(), BytesCodec)
                    .await
                    .map_err(|s| failed(raw.name, &s))?;
                (raw.check)(reply.get_ref())?;
            }
            Call::Health => {
                let reply = self
                    .health
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map_err(|s| failed("Health/Check", &s))?;
                if reply.get_ref().status != ServingStatus::Serving as i32 {
                    return Err(format!(
                        "Health/Check answered status {}",
                        reply.get_ref().status
                    ));
                }
            }
            Call::GetPartner { partner_id, bearer } => {
                let request = with_bearer(
                    accounts::GetPartnerRequest {
                        partner_id: partner_id.clone(),
                    },
                    bearer,
                );
                let reply = self
                    .partners
                    .get_partner(request)
                    .await
                    .map_err(|s| failed("GetPartner", &s))?;
                let got = reply
                    .get_ref()
                    .partner
                    .as_ref()
                    .map(|p| p.partner_id.as_str());
                if got != Some(partner_id.as_str()) {
                    return Err(format!("GetPartner answered partner {got:?}"));
                }
            }
            Call::GetPartnerMalformed { bearer } => {
                let request = with_bearer(
                    accounts::GetPartnerRequest {
                        partner_id: "not-a-partner-id".into(),
                    },
                    bearer,
                );
                match self.partners.get_partner(request).await {
                    Err(s) if s.code() == tonic::Code::InvalidArgument => {}
                    Err(s) => return Err(failed("GetPartner (malformed id)", &s)),
                    Ok(_) => return Err("GetPartner with a malformed id answered OK".into()),
                }
            }
            Call::Login {
                usernames,
                next,
                password,
            } => {
                let i = next.fetch_add(1, Ordering::Relaxed) % usernames.len().max(1);
                let username = usernames.get(i).cloned().unwrap_or_default();
                let token = self.login(&username, password).await?;
                if token.is_empty() {
                    return Err("Login answered no access token".into());
                }
            }
            Call::GetUser {
                user_ids,
                next,
                bearer,
            } => {
                let i = next.fetch_add(1, Ordering::Relaxed) % user_ids.len().max(1);
                let id = user_ids.get(i).cloned().unwrap_or_default();
                let request = with_bearer(
                    accounts::GetUserRequest {
                        user_id: id.clone(),
                    },
                    bearer,
                );
                let reply = self
                    .users
                    .get_user(request)
                    .await
                    .map_err(|s| failed("GetUser", &s))?;
                let got = reply.get_ref().user.as_ref().map(|u| u.user_id.as_str());
                if got != Some(id.as_str()) {
                    return Err(format!("GetUser answered user {got:?}"));
                }
            }
            Call::ListUsers { page_size, bearer } => {
                let request = with_bearer(
                    accounts::ListUsersRequest {
                        page_size: *page_size,
                        ..Default::default()
                    },
                    bearer,
                );
                let reply = self
                    .users
                    .list_users(request)
                    .await
                    .map_err(|s| failed("ListUsers", &s))?;
                let n = reply.get_ref().users.len();
                if i32::try_from(n).ok() != Some(*page_size) {
                    return Err(format!("ListUsers answered {n} users"));
                }
            }
            Call::GetCustomer { ids, next, bearer } => {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let i = n.wrapping_mul(2_654_435_761) % ids.len().max(1);
                let id = ids.get(i).cloned().unwrap_or_default();
                let request = with_bearer(
                    customers::GetCustomerRequest {
                        customer_id: id.clone(),
                        reseller_id: String::new(),
                    },
                    bearer,
                );
                let reply = self
                    .customers
                    .get_customer(request)
                    .await
                    .map_err(|s| failed("GetCustomer", &s))?;
                let got = reply
                    .get_ref()
                    .customer
                    .as_ref()
                    .map(|c| c.customer_id.as_str());
                if got != Some(id.as_str()) {
                    return Err(format!("GetCustomer answered customer {got:?}"));
                }
            }
            Call::Transfer { pairs, next } => {
                let (bearer, customer) = &pairs[next.fetch_add(1, Ordering::Relaxed) % pairs.len()];
                let request = billing::TransferToCustomerRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    customer_id: customer.clone(),
                    amount: Some(partner_api::r#type::v1::Money {
                        currency_code: "CNY".into(),
                        units: 0,
                        nanos: 10_000_000,
                    }),
                    reason: String::new(),
                    reseller_id: String::new(),
                };
                let reply = self
                    .funds
                    .transfer_to_customer(with_bearer(request, bearer))
                    .await
                    .map_err(|s| failed("TransferToCustomer", &s))?;
                if !reply.get_ref().transaction_id.starts_with("ltx_") {
                    return Err("TransferToCustomer answered no transaction".into());
                }
            }
            Call::PayOrder { orders, next } => {
                let w = orders
                    .get(next.fetch_add(1, Ordering::Relaxed))
                    .ok_or("PayOrder ran out of orders")?;
                let request = billing::PayOrderRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    id: w.order_id.clone(),
                    coupon_ids: vec![w.coupon_id.clone()],
                    ..Default::default()
                };
                let reply = self
                    .orders
                    .pay_order(with_bearer(request, &w.bearer))
                    .await
                    .map_err(|s| failed("PayOrder", &s))?;
                let state = reply.get_ref().order.as_ref().map(|o| o.state());
                if state != Some(billing::OrderState::Completed) {
                    return Err(format!("PayOrder answered {state:?}"));
                }
            }
            Call::RatePeriod { request, bearer } => {
                let reply = self
                    .rating
                    .rate_period_products(with_bearer((**request).clone(), bearer))
                    .await
                    .map_err(|s| failed("RatePeriodProducts", &s))?;
                if reply.get_ref().lines.len() != request.lines.len() {
                    return Err("RatePeriodProducts answered another number of lines".into());
                }
                // A customer's rating must carry its discounts' results.
                if !request.customer_id.is_empty() && reply.get_ref().discount_results.len() < 2 {
                    return Err(
                        "RatePeriodProducts answered without the customer's discounts".into(),
                    );
                }
            }
            Call::ListCustomers {
                page_size,
                page_token,
                prefix,
                bearer,
            } => {
                let request = with_bearer(
                    customers::ListCustomersRequest {
                        page_size: *page_size,
                        page_token: page_token.clone(),
                        account_name_prefix: prefix.clone(),
                        ..Default::default()
                    },
                    bearer,
                );
                let reply = self
                    .customers
                    .list_customers(request)
                    .await
                    .map_err(|s| failed("ListCustomers", &s))?;
                let n = reply.get_ref().customers.len();
                if i32::try_from(n).ok() != Some(*page_size) {
                    return Err(format!("ListCustomers answered {n} customers"));
                }
            }
            Call::CreateCustomer {
                xaccount_type,
                tag,
                next,
                bearer,
            } => {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let request = with_bearer(
                    customers::CreateCustomerRequest {
                        request_id: uuid::Uuid::new_v4().to_string(),
                        xaccount_type: xaccount_type.clone(),
                        xaccount_id: format!("{tag}-{n}"),
                        email: format!("{tag}-{n}@customers.example"),
                        country: "CN".into(),
                        ..Default::default()
                    },
                    bearer,
                );
                let reply = self
                    .customers
                    .create_customer(request)
                    .await
                    .map_err(|s| failed("CreateCustomer", &s))?;
                if reply.get_ref().customer.is_none() {
                    return Err("CreateCustomer answered no customer".into());
                }
            }
        }
        Ok(())
    }

    /// Pages through the customers of the holder of `bearer` with pages of
    /// `page_size` until `skip` customers are behind; returns the token of
    /// the page after them.
    pub async fn deep_token(
        &mut self,
        bearer: &MetadataValue<Ascii>,
        skip: usize,
        page_size: i32,
    ) -> Result<String, String> {
        let mut token = String::new();
        let mut seen = 0;
        while seen < skip {
            let request = with_bearer(
                customers::ListCustomersRequest {
                    page_size,
                    page_token: token.clone(),
                    ..Default::default()
                },
                bearer,
            );
            let reply = self
                .customers
                .list_customers(request)
                .await
                .map_err(|s| failed("ListCustomers", &s))?
                .into_inner();
            seen += reply.customers.len();
            if reply.next_page_token.is_empty() {
                return Err(format!("only {seen} customers to page through"));
            }
            token = reply.next_page_token;
        }
        Ok(token)
    }

    /// The first sales-platform id of `partner_id`, read as the holder of `bearer`.
    pub async fn sales_platform(
        &mut self,
        bearer: &MetadataValue<Ascii>,
        partner_id: &str,
    ) -> Result<String, String> {
        let reply = self
            .partners
            .get_partner(with_bearer(
                accounts::GetPartnerRequest {
                    partner_id: partner_id.to_owned(),
                },
                bearer,
            ))
            .await
            .map_err(|s| failed("GetPartner", &s))?;
        reply
            .into_inner()
            .partner
            .and_then(|p| p.sales_platform_ids.into_iter().next())
            .ok_or_else(|| "the partner has no sales platform".to_owned())
    }

    /// Creates `count` sub-users (`{prefix}0`, …) as the holder of `bearer`;
    /// returns their ids.
    pub async fn create_users(
        &mut self,
        bearer: &MetadataValue<Ascii>,
        prefix: &str,
        count: usize,
    ) -> Result<Vec<String>, String> {
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            let request = with_bearer(
                accounts::CreateUserRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    username: format!("{prefix}{i}"),
                    password: USER_PASSWORD.into(),
                    display_name: format!("Benchmark user {i}"),
                    email: format!("{prefix}{i}@example.com"),
                    reseller_id: String::new(),
                },
                bearer,
            );
            let reply = self
                .users
                .create_user(request)
                .await
                .map_err(|s| failed("CreateUser", &s))?;
            ids.push(
                reply
                    .into_inner()
                    .user
                    .map(|u| u.user_id)
                    .unwrap_or_default(),
            );
        }
        Ok(ids)
    }

    /// Starts `count` logins and abandons each after `after`, as clients
    /// that give up do; returns how many were still running when abandoned.
    pub async fn abandon_logins(
        channels: &[Channel],
        count: usize,
        username: &str,
        password: &str,
        after: Duration,
    ) -> usize {
        let mut calls = Vec::with_capacity(count);
        for i in 0..count {
            let mut clients = Clients::new(channels[i % channels.len().max(1)].clone());
            let (username, password) = (username.to_owned(), password.to_owned());
            calls.push(tokio::spawn(async move {
                tokio::time::timeout(after, clients.login(&username, &password))
                    .await
                    .is_err()
            }));
        }
        let mut abandoned = 0;
        for call in calls {
            if call.await.unwrap_or(false) {
                abandoned += 1;
            }
        }
        abandoned
    }

    /// Logs in and returns the access token.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<String, String> {
        let reply = self
            .auth
            .login(iam::LoginRequest {
                username: username.to_owned(),
                password: password.to_owned(),
            })
            .await
            .map_err(|s| failed("Login", &s))?;
        Ok(reply
            .into_inner()
            .tokens
            .map(|t| t.access_token)
            .unwrap_or_default())
    }

    /// Registers a partner as the operator and returns its id.
    pub async fn register_partner(
        &mut self,
        bearer: &MetadataValue<Ascii>,
        master_username: &str,
    ) -> Result<String, String> {
        let request = with_bearer(
            accounts::RegisterPartnerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                display_name: "Benchmark Partner".into(),
                master_username: master_username.to_owned(),
                master_password: MASTER_PASSWORD.into(),
                contact_email: "bench@example.com".into(),
            },
            bearer,
        );
        let reply = self
            .partners
            .register_partner(request)
            .await
            .map_err(|s| failed("RegisterPartner", &s))?;
        reply
            .into_inner()
            .partner
            .map(|p| p.partner_id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| "RegisterPartner answered no partner".to_owned())
    }
}

/// How long a load phase runs: until `duration` has passed or every worker
/// has made `max_calls_per_worker` calls, whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub duration: Duration,
    pub max_calls_per_worker: u64,
}

/// What one load phase measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Calls that got the expected answer (all of them: any other answer fails the phase).
    pub ok: u64,
    /// From the common start to the last worker's end.
    pub elapsed: Duration,
    /// Latency of every call in microseconds, ascending.
    pub latencies_us: Vec<u64>,
}

impl LoadResult {
    /// Calls per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`-th percentile latency (nearest rank), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us[index] as f64 / 1000.0
    }
}

/// Runs `in_flight` workers on each channel, all making `call` in a loop
/// within `bound`. The first unexpected answer stops every worker and fails
/// the phase with that answer.
pub async fn run(
    channels: &[Channel],
    in_flight: usize,
    call: &Call,
    bound: Bound,
) -> Result<LoadResult, BoxError> {
    let workers = channels.len() * in_flight;
    if workers == 0 {
        return Err("no workers: connections and in-flight calls must be at least 1".into());
    }
    let start_line = Arc::new(Barrier::new(workers + 1));
    let failed = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::with_capacity(workers);
    for channel in channels {
        for _ in 0..in_flight {
            let mut clients = Clients::new(channel.clone());
            let call = call.clone();
            let start_line = start_line.clone();
            let failed = failed.clone();
            let capacity = usize::try_from(bound.max_calls_per_worker.min(1 << 20)).unwrap_or(0);
            handles.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(capacity);
                start_line.wait().await;
                let deadline = Instant::now() + bound.duration;
                let mut made = 0;
                while made < bound.max_calls_per_worker
                    && Instant::now() < deadline
                    && !failed.load(Ordering::Relaxed)
                {
                    let began = Instant::now();
                    if let Err(e) = clients.call(&call).await {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                    latencies.push(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
                    made += 1;
                }
                Ok(latencies)
            }));
        }
    }
    start_line.wait().await;
    let started = Instant::now();
    let mut latencies_us = Vec::new();
    let mut first_error = None;
    for handle in handles {
        match handle.await {
            Ok(Ok(l)) => latencies_us.extend(l),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(format!("worker panicked: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    if let Some(e) = first_error {
        return Err(e.into());
    }
    latencies_us.sort_unstable();
    Ok(LoadResult {
        ok: latencies_us.len() as u64,
        elapsed,
        latencies_us,
    })
}
