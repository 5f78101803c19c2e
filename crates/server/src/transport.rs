//! The transport: one port serving gRPC, gRPC-Web (HTTP/1.1 with CORS), server
//! reflection (v1 and v1alpha), health, and plain HTTP routes (JWKS), behind
//! explicit limits and the layer stack.

use std::future::Future;
use std::time::Duration;

use http::header::HeaderName;
use partner_api::accounts::v1::audit_service_server::AuditServiceServer;
use partner_api::accounts::v1::partner_service_server::PartnerServiceServer;
use partner_api::accounts::v1::program_service_server::ProgramServiceServer;
use partner_api::accounts::v1::reseller_service_server::ResellerServiceServer;
use partner_api::accounts::v1::role_service_server::RoleServiceServer;
use partner_api::accounts::v1::user_service_server::UserServiceServer;
use partner_api::billing::v1::bill_service_server::BillServiceServer;
use partner_api::billing::v1::coupon_service_server::CouponServiceServer;
use partner_api::billing::v1::funds_service_server::FundsServiceServer;
use partner_api::billing::v1::ledger_service_server::LedgerServiceServer;
use partner_api::billing::v1::order_service_server::OrderServiceServer;
use partner_api::billing::v1::payment_agreement_service_server::PaymentAgreementServiceServer;
use partner_api::billing::v1::resource_service_server::ResourceServiceServer;
use partner_api::billing::v1::sandbox_service_server::SandboxServiceServer;
use partner_api::billing::v1::usage_service_server::UsageServiceServer;
use partner_api::customers::v1::customer_service_server::CustomerServiceServer;
use partner_api::customers::v1::lead_service_server::LeadServiceServer;
use partner_api::customers::v1::opportunity_service_server::OpportunityServiceServer;
use partner_api::events::v1::event_service_server::EventServiceServer;
use partner_api::events::v1::webhook_service_server::WebhookServiceServer;
use partner_api::iam::v1::access_key_service_server::AccessKeyServiceServer;
use partner_api::iam::v1::auth_service_server::AuthServiceServer;
use partner_api::iam::v1::federation_service_server::FederationServiceServer;
use partner_api::iam::v1::signing_key_service_server::SigningKeyServiceServer;
use partner_api::pricing::v1::catalog_service_server::CatalogServiceServer;
use partner_api::pricing::v1::discount_service_server::DiscountServiceServer;
use partner_api::pricing::v1::offer_link_service_server::OfferLinkServiceServer;
use partner_api::pricing::v1::quote_service_server::QuoteServiceServer;
use partner_api::pricing::v1::rating_service_server::RatingServiceServer;
use partner_api::pricing::v1::solution_service_server::SolutionServiceServer;
use partner_gateway::AuthLayer;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::app::{App, StartError};
use crate::codec_errors::CodecErrorsLayer;
use crate::http_routes::HttpRoutesLayer;
use crate::jobs::Jobs;
use crate::request_id::{REQUEST_ID_HEADER, RequestIdLayer};

/// Largest request message a service decodes (RELIABILITY: ≤ 1 MiB).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Largest CatalogService request: an import carries a whole catalog file
/// (at most 4 MiB; decision 123) and a few fields.
pub const MAX_CATALOG_REQUEST_BYTES: usize = 4 * 1024 * 1024 + 64 * 1024;
/// Largest FederationService request: IdP metadata may be 2 MiB (the
/// federation issue's cap wins over the general one; decision 88).
pub const MAX_FEDERATION_REQUEST_BYTES: usize = 2 * 1024 * 1024 + 64 * 1024;
/// Largest response message a service encodes.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Calls in flight per connection; beyond it the server sheds load at once
/// (RESOURCE_EXHAUSTED) rather than queueing without bound.
pub const CONCURRENCY_PER_CONNECTION: usize = 256;
/// HTTP/2 streams per connection.
pub const MAX_CONCURRENT_STREAMS: u32 = 256;
/// Header list cap; it also caps the size of a bearer token.
pub const MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;
/// Connections are recycled after this long so load rebalances across replicas.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(30 * 60);
/// HTTP/2 PING interval and the time to wait for its answer.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Applies the message-size caps to a generated service (each generated
/// server type has the methods, but no trait shares them).
macro_rules! limited {
    ($server:expr) => {
        $server
            .max_decoding_message_size(MAX_REQUEST_BYTES)
            .max_encoding_message_size(MAX_RESPONSE_BYTES)
    };
}

/// Every gRPC service name the health service reports on.
pub const SERVICE_NAMES: &[&str] = &[
    "partner.iam.v1.AuthService",
    "partner.iam.v1.FederationService",
    "partner.accounts.v1.PartnerService",
    "partner.accounts.v1.UserService",
    "partner.accounts.v1.AuditService",
    "partner.accounts.v1.RoleService",
    "partner.accounts.v1.ProgramService",
    "partner.accounts.v1.ResellerService",
    "partner.iam.v1.SigningKeyService",
    "partner.iam.v1.AccessKeyService",
    "partner.customers.v1.CustomerService",
    "partner.customers.v1.LeadService",
    "partner.customers.v1.OpportunityService",
    "partner.events.v1.EventService",
    "partner.events.v1.WebhookService",
    "partner.pricing.v1.CatalogService",
    "partner.pricing.v1.RatingService",
    "partner.pricing.v1.DiscountService",
    "partner.pricing.v1.QuoteService",
    "partner.pricing.v1.OfferLinkService",
    "partner.pricing.v1.SolutionService",
    "partner.billing.v1.FundsService",
    "partner.billing.v1.PaymentAgreementService",
    "partner.billing.v1.CouponService",
    "partner.billing.v1.OrderService",
    "partner.billing.v1.ResourceService",
    "partner.billing.v1.SandboxService",
    "partner.billing.v1.UsageService",
    "partner.billing.v1.BillService",
    "partner.billing.v1.LedgerService",
];

/// Serves `app` on `listener` until `shutdown` resolves, then reports
/// NOT_SERVING, waits `grace` so load balancers notice, stops accepting, and
/// lets in-flight calls finish.
pub async fn serve(
    app: App,
    listener: TcpListener,
    request_timeout: Duration,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in SERVICE_NAMES {
        reporter
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(partner_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| StartError::Setup(e.to_string()))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(partner_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| StartError::Setup(e.to_string()))?;

    let mut builder = Routes::builder();
    builder
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(limited!(AuthServiceServer::new(app.iam_api.clone())))
        .add_service(limited!(PartnerServiceServer::new(
            app.accounts_api.clone()
        )))
        .add_service(limited!(UserServiceServer::new(app.accounts_api.clone())))
        .add_service(limited!(AuditServiceServer::new(app.accounts_api.clone())))
        .add_service(limited!(RoleServiceServer::new(app.accounts_api.clone())))
        .add_service(limited!(ProgramServiceServer::new(
            app.accounts_api.clone()
        )))
        .add_service(limited!(ResellerServiceServer::new(
            app.accounts_api.clone()
        )))
        .add_service(limited!(SigningKeyServiceServer::new(app.iam_api.clone())))
        .add_service(limited!(AccessKeyServiceServer::new(app.iam_api.clone())))
        .add_service(limited!(CustomerServiceServer::new(
            app.customers_api.clone()
        )))
        .add_service(limited!(LeadServiceServer::new(app.customers_api.clone())))
        .add_service(limited!(OpportunityServiceServer::new(
            app.customers_api.clone()
        )))
        .add_service(limited!(EventServiceServer::new(app.events_api.clone())))
        .add_service(limited!(WebhookServiceServer::new(
            app.webhooks_api.clone()
        )))
        .add_service(
            CatalogServiceServer::new(app.pricing_api.clone())
                .max_decoding_message_size(MAX_CATALOG_REQUEST_BYTES)
                .max_encoding_message_size(MAX_RESPONSE_BYTES),
        )
        .add_service(limited!(RatingServiceServer::new(app.pricing_api.clone())))
        .add_service(limited!(DiscountServiceServer::new(
            app.pricing_api.clone()
        )))
        .add_service(limited!(QuoteServiceServer::new(app.pricing_api.clone())))
        .add_service(limited!(OfferLinkServiceServer::new(
            app.pricing_api.clone()
        )))
        .add_service(limited!(SolutionServiceServer::new(
            app.pricing_api.clone()
        )))
        .add_service(limited!(FundsServiceServer::new(app.billing_api.clone())))
        .add_service(limited!(PaymentAgreementServiceServer::new(
            app.billing_api.clone()
        )))
        .add_service(limited!(CouponServiceServer::new(app.billing_api.clone())))
        .add_service(limited!(OrderServiceServer::new(app.billing_api.clone())))
        .add_service(limited!(ResourceServiceServer::new(
            app.billing_api.clone()
        )))
        .add_service(limited!(LedgerServiceServer::new(app.billing_api.clone())))
        .add_service(limited!(SandboxServiceServer::new(app.billing_api.clone())))
        .add_service(limited!(UsageServiceServer::new(app.billing_api.clone())))
        .add_service(limited!(BillServiceServer::new(app.billing_api.clone())))
        .add_service(
            FederationServiceServer::new(app.federation_api.clone())
                .max_decoding_message_size(MAX_FEDERATION_REQUEST_BYTES)
                .max_encoding_message_size(MAX_RESPONSE_BYTES),
        );
    let routes = builder.routes();
    let mut server = Server::builder()
        .accept_http1(true)
        .timeout(request_timeout)
        .concurrency_limit_per_connection(CONCURRENCY_PER_CONNECTION)
        .load_shed(true)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .max_connection_age(MAX_CONNECTION_AGE)
        // Outermost first. CORS answers browser preflights before anything else runs.
        .layer(cors())
        // Plain HTTP routes (JWKS, SAML) are answered before gRPC-Web, which refuses them.
        .layer(HttpRoutesLayer::new(
            app.gateway.clone(),
            app.federation.clone(),
        ))
        // gRPC-Web is translated to gRPC here, so every layer below sees plain gRPC.
        .layer(tonic_web::GrpcWebLayer::new())
        // Request id and the call's span wrap authentication, so refusals are traced too.
        .layer(RequestIdLayer)
        // Malformed and oversized requests get the same error contract as any refusal.
        .layer(CodecErrorsLayer)
        // Deny by default: nothing below runs without a verified principal.
        .layer(AuthLayer::new(app.gateway.clone(), app.access.clone()));

    let events = app.events_api.clone();
    let drain = async move {
        shutdown.await;
        // Watch streams never end by themselves; end them so the drain can.
        events.stop_watches();
        tracing::info!("shutting down: reporting NOT_SERVING");
        for name in SERVICE_NAMES {
            reporter
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        tokio::time::sleep(grace).await;
        tracing::info!("draining in-flight calls");
    };
    let jobs = Jobs::start(&app)?;
    let result = server
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), drain)
        .await;
    jobs.stop().await;
    app.db.close().await?;
    result.map_err(StartError::from)
}

fn cors() -> CorsLayer {
    let expose = [
        "grpc-status",
        "grpc-message",
        "grpc-status-details-bin",
        REQUEST_ID_HEADER,
    ]
    .map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([http::Method::POST, http::Method::GET, http::Method::OPTIONS])
        // Mirrored rather than `*`: browsers never let the wildcard cover
        // `authorization`, so a `*` preflight blocks every authenticated call.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(expose)
        .max_age(Duration::from_secs(24 * 60 * 60))
}
