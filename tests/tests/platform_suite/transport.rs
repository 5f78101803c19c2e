//! The transport through the real server: reflection, health, gRPC-Web over
//! HTTP/1.1, CORS, request ids, size limits and unknown methods.

use std::collections::BTreeMap;
use std::time::Duration;

use partner_api::accounts::v1 as accounts;
use partner_api::iam::v1 as iam;
use partner_tests::*;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Every service reflection must list: the platform's, from its descriptors,
/// and health.
fn listed_services() -> Vec<String> {
    let mut services = every_service();
    services.push("grpc.health.v1.Health".into());
    services
}

/// A server over a fresh database. The database is moved in rather than
/// cloned: dropping any clone of a `TestDb` deletes the SQLite directory the
/// server is still using, and a pooled connection opened later would fail.
async fn start() -> TestServer {
    TestServer::start_on(TestDb::fresh().await, |_| {}).await
}

// ---------------------------------------------------------------------------
// Reflection

/// One reflection exchange on the v1 protocol; a refusal of the request
/// ends the stream with that status.
async fn reflect_v1(
    channel: Channel,
    request: tonic_reflection::pb::v1::server_reflection_request::MessageRequest,
) -> Result<tonic_reflection::pb::v1::server_reflection_response::MessageResponse, tonic::Status> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    let mut client = ServerReflectionClient::new(channel);
    let outbound = tokio_stream::iter([ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    }]);
    let mut inbound = ok(client.server_reflection_info(outbound).await);
    let reply = inbound
        .next()
        .await
        .unwrap_or_else(|| panic!("reflection v1: no reply"))?;
    Ok(reply
        .message_response
        .unwrap_or_else(|| panic!("reflection v1: empty reply")))
}

/// One reflection exchange on the v1alpha protocol, which older tools (and
/// grpcurl before 1.9) still speak.
async fn reflect_v1alpha(
    channel: Channel,
    request: tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest,
) -> Result<tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse, tonic::Status>
{
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    let mut client = ServerReflectionClient::new(channel);
    let outbound = tokio_stream::iter([ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    }]);
    let mut inbound = ok(client.server_reflection_info(outbound).await);
    let reply = inbound
        .next()
        .await
        .unwrap_or_else(|| panic!("reflection v1alpha: no reply"))?;
    Ok(reply
        .message_response
        .unwrap_or_else(|| panic!("reflection v1alpha: empty reply")))
}

/// Asserts that one of the encoded file descriptors declares `PartnerService`.
fn assert_declares_partner_service(files: &[Vec<u8>]) {
    let declares = files.iter().any(|bytes| {
        let file = prost_types::FileDescriptorProto::decode(bytes.as_slice())
            .unwrap_or_else(|e| panic!("descriptor does not decode: {e}"));
        file.package() == "partner.accounts.v1"
            && file.service.iter().any(|s| {
                s.name() == "PartnerService"
                    && s.method.iter().any(|m| m.name() == "RegisterPartner")
            })
    });
    assert!(declares, "no descriptor declares PartnerService");
}

#[tokio::test]
async fn reflection_v1_lists_services_and_returns_descriptors() {
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let server = start().await;

    let listed = match reflect_v1(
        server.channel.clone(),
        MessageRequest::ListServices(String::new()),
    )
    .await
    {
        Ok(MessageResponse::ListServicesResponse(list)) => list,
        other => panic!("expected a service list, got {other:?}"),
    };
    let names: Vec<&str> = listed.service.iter().map(|s| s.name.as_str()).collect();
    for service in listed_services() {
        assert!(
            names.contains(&service.as_str()),
            "{service} missing from {names:?}"
        );
    }

    let files = match reflect_v1(
        server.channel.clone(),
        MessageRequest::FileContainingSymbol("partner.accounts.v1.PartnerService".into()),
    )
    .await
    {
        Ok(MessageResponse::FileDescriptorResponse(files)) => files,
        other => panic!("expected descriptors, got {other:?}"),
    };
    assert_declares_partner_service(&files.file_descriptor_proto);

    // tonic-reflection ends the stream with NOT_FOUND for an unknown symbol.
    match reflect_v1(
        server.channel.clone(),
        MessageRequest::FileContainingSymbol("partner.nope.v1.Nothing".into()),
    )
    .await
    {
        Err(status) => assert_eq!(status.code(), Code::NotFound, "{status:?}"),
        Ok(other) => panic!("expected NOT_FOUND, got {other:?}"),
    }
}

#[tokio::test]
async fn reflection_v1alpha_lists_services_and_returns_descriptors() {
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let server = start().await;

    let listed = match reflect_v1alpha(
        server.channel.clone(),
        MessageRequest::ListServices(String::new()),
    )
    .await
    {
        Ok(MessageResponse::ListServicesResponse(list)) => list,
        other => panic!("expected a service list, got {other:?}"),
    };
    let names: Vec<&str> = listed.service.iter().map(|s| s.name.as_str()).collect();
    for service in listed_services() {
        assert!(
            names.contains(&service.as_str()),
            "{service} missing from {names:?}"
        );
    }

    let files = match reflect_v1alpha(
        server.channel.clone(),
        MessageRequest::FileContainingSymbol("partner.accounts.v1.PartnerService".into()),
    )
    .await
    {
        Ok(MessageResponse::FileDescriptorResponse(files)) => files,
        other => panic!("expected descriptors, got {other:?}"),
    };
    assert_declares_partner_service(&files.file_descriptor_proto);
}

// ---------------------------------------------------------------------------
// Health

#[tokio::test]
async fn health_reports_every_service_and_not_found_for_unknown_ones() {
    let server = start().await;
    let mut health = HealthClient::new(server.channel.clone());
    // The whole server, and each service it declares: a service missing from
    // the server's health list answers NOT_FOUND here.
    let mut services = every_service();
    services.push(String::new());
    for service in services {
        let reply = ok(health
            .check(HealthCheckRequest {
                service: service.clone(),
            })
            .await);
        assert_eq!(
            reply.status,
            ServingStatus::Serving as i32,
            "service {service:?}"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "partner.billing.v1.InvoiceService".into(),
        })
        .await;
    match unknown {
        Err(status) => assert_eq!(status.code(), Code::NotFound, "{status:?}"),
        Ok(r) => panic!("unknown service answered {r:?}"),
    }
}

// ---------------------------------------------------------------------------
// gRPC-Web over HTTP/1.1, spoken by hand so that nothing in the client hides
// what the server actually sends to a browser.

/// An HTTP/1.1 response: status, lower-cased headers, de-chunked body.
#[derive(Debug)]
struct HttpResponse {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The comma-separated items of a header, lower-cased.
    fn header_items(&self, name: &str) -> Vec<String> {
        self.header(name)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends `head` (request line and headers, without the blank line) and `body`
/// on a fresh connection with `Connection: close`, and reads the whole reply.
async fn http1(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> HttpResponse {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let request = format!(
            "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("write: {e}"));
        stream
            .write_all(body)
            .await
            .unwrap_or_else(|e| panic!("write: {e}"));
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .await
            .unwrap_or_else(|e| panic!("read: {e}"));
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("no HTTP/1.1 reply within 10 s"));
    parse_http1(&raw)
}

fn parse_http1(raw: &[u8]) -> HttpResponse {
    let end = find(raw, b"\r\n\r\n").unwrap_or_else(|| panic!("no header end in {raw:?}"));
    let head = std::str::from_utf8(&raw[..end]).unwrap_or_else(|e| panic!("head: {e}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split(' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line}"));
    let mut headers = BTreeMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad header line {line}"));
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let rest = &raw[end + 4..];
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n").unwrap_or_else(|| panic!("truncated chunk"));
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap_or_default();
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .unwrap_or_else(|e| panic!("chunk size {size_text:?}: {e}"));
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// A gRPC(-Web) length-prefixed frame around `message`.
fn frame(flags: u8, message: &[u8]) -> Vec<u8> {
    let len = u32::try_from(message.len()).unwrap_or_else(|e| panic!("{e}"));
    let mut out = vec![flags];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The frames of a gRPC-Web body: `(flags, payload)`.
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !body.is_empty() {
        assert!(body.len() >= 5, "truncated frame header: {body:?}");
        let flags = body[0];
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        assert!(body.len() >= 5 + len, "truncated frame");
        out.push((flags, body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    out
}

/// The trailers of a gRPC-Web trailer frame, with lower-cased names.
fn trailer_map(payload: &[u8]) -> BTreeMap<String, String> {
    let text = std::str::from_utf8(payload).unwrap_or_else(|e| panic!("trailers: {e}"));
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("bad trailer {l}"));
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect()
}

/// The grpc-status of a gRPC-Web reply: from the headers (trailers-only
/// replies) or from the trailer frame.
fn grpc_web_status(resp: &HttpResponse) -> Option<String> {
    if let Some(s) = resp.header("grpc-status") {
        return Some(s.to_owned());
    }
    frames(&resp.body)
        .into_iter()
        .filter(|(flags, _)| flags & 0x80 != 0)
        .find_map(|(_, payload)| trailer_map(&payload).get("grpc-status").cloned())
}

const GRPC_WEB_HEAD: &str = "Content-Type: application/grpc-web+proto\r\nAccept: application/grpc-web+proto\r\nX-Grpc-Web: 1";

#[tokio::test]
async fn grpc_web_over_http1_returns_data_and_trailer_frames() {
    let server = start().await;
    let body = frame(0, &iam::GetJwksRequest {}.encode_to_vec());
    let resp = http1(
        server.addr,
        &format!("POST /partner.iam.v1.AuthService/GetJwks HTTP/1.1\r\n{GRPC_WEB_HEAD}"),
        &body,
    )
    .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(
        resp.header("content-type")
            .is_some_and(|c| c.starts_with("application/grpc-web")),
        "{resp:?}"
    );

    let frames = frames(&resp.body);
    assert_eq!(
        frames.len(),
        2,
        "one data frame and one trailer frame: {frames:?}"
    );
    let (data_flags, data) = &frames[0];
    assert_eq!(*data_flags, 0, "uncompressed data frame");
    let jwks = iam::GetJwksResponse::decode(data.as_slice())
        .unwrap_or_else(|e| panic!("GetJwksResponse: {e}"));
    assert_eq!(jwks.keys.len(), 1, "{jwks:?}");
    let key = &jwks.keys[0];
    assert_eq!(
        (key.kty.as_str(), key.crv.as_str(), key.alg.as_str()),
        ("OKP", "Ed25519", "EdDSA")
    );
    assert!(!key.kid.is_empty());

    let (trailer_flags, trailer) = &frames[1];
    assert_eq!(*trailer_flags, 0x80, "trailer frame flag");
    let trailers = trailer_map(trailer);
    assert_eq!(
        trailers.get("grpc-status").map(String::as_str),
        Some("0"),
        "{trailers:?}"
    );
}

#[tokio::test]
async fn grpc_web_without_a_token_is_unauthenticated() {
    let server = start().await;
    let body = frame(0, &accounts::ListPartnersRequest::default().encode_to_vec());
    let resp = http1(
        server.addr,
        &format!(
            "POST /partner.accounts.v1.PartnerService/ListPartners HTTP/1.1\r\n{GRPC_WEB_HEAD}"
        ),
        &body,
    )
    .await;
    assert_eq!(
        resp.status, 200,
        "gRPC-Web reports errors in grpc-status: {resp:?}"
    );
    assert_eq!(grpc_web_status(&resp).as_deref(), Some("16"), "{resp:?}");
}

#[tokio::test]
async fn cors_preflight_allows_the_origin_and_grpc_web_headers() {
    let server = start().await;
    let preflight = http1(
        server.addr,
        "OPTIONS /partner.iam.v1.AuthService/Login HTTP/1.1\r\n\
         Origin: https://console.example\r\n\
         Access-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: content-type,x-grpc-web,authorization",
        &[],
    )
    .await;
    assert!(
        (200..300).contains(&preflight.status),
        "preflight refused: {preflight:?}"
    );
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://console.example"),
        "{preflight:?}"
    );
    let methods = preflight.header_items("access-control-allow-methods");
    assert!(methods.iter().any(|m| m == "post"), "{preflight:?}");
    // Browsers never let `*` cover `authorization` (Fetch: it is a CORS
    // non-wildcard request-header name), so each requested header must be
    // named explicitly.
    let allowed = preflight.header_items("access-control-allow-headers");
    for requested in ["content-type", "x-grpc-web", "authorization"] {
        assert!(
            allowed.iter().any(|h| h == requested),
            "{requested} not allowed by the preflight: {preflight:?}"
        );
    }

    // The actual call exposes the gRPC status headers to the page's script.
    let body = frame(0, &iam::GetJwksRequest {}.encode_to_vec());
    let actual = http1(
        server.addr,
        &format!(
            "POST /partner.iam.v1.AuthService/GetJwks HTTP/1.1\r\nOrigin: https://console.example\r\n{GRPC_WEB_HEAD}"
        ),
        &body,
    )
    .await;
    assert_eq!(actual.status, 200, "{actual:?}");
    assert_eq!(
        actual.header("access-control-allow-origin"),
        Some("https://console.example"),
        "{actual:?}"
    );
    let exposed = actual.header_items("access-control-expose-headers");
    for header in [
        "grpc-status",
        "grpc-message",
        "grpc-status-details-bin",
        "x-request-id",
    ] {
        assert!(
            exposed.iter().any(|h| h == header),
            "{header} not exposed: {actual:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Request ids

fn with_request_id<T>(message: T, id: &'static str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("x-request-id", MetadataValue::from_static(id));
    req
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let server = start().await;

    let resp = server
        .auth()
        .get_jwks(with_request_id(iam::GetJwksRequest {}, "test-123"))
        .await
        .unwrap_or_else(|e| panic!("GetJwks: {e:?}"));
    assert_eq!(
        resp.metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("test-123")
    );

    // Refusals carry it too, so a support ticket can quote it.
    let refused = server
        .partners("")
        .list_partners(with_request_id(
            accounts::ListPartnersRequest::default(),
            "test-456",
        ))
        .await;
    let status = assert_refused(refused, Code::Unauthenticated, "AUTHENTICATION_REQUIRED");
    assert_eq!(
        status
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("test-456")
    );

    // Without one, each call gets a fresh UUIDv7.
    let mut generated = Vec::new();
    for _ in 0..2 {
        let resp = server
            .auth()
            .get_jwks(iam::GetJwksRequest {})
            .await
            .unwrap_or_else(|e| panic!("GetJwks: {e:?}"));
        let id = resp
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no generated request id"))
            .to_owned();
        let uuid = uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(uuid.get_version_num(), 7, "{id}");
        generated.push(id);
    }
    assert_ne!(generated[0], generated[1]);
}

// ---------------------------------------------------------------------------
// Limits

/// Asserts the call was refused by the 1 MiB decode limit: RESOURCE_EXHAUSTED
/// with ErrorInfo `REQUEST_TOO_LARGE` (tonic itself would say OUT_OF_RANGE
/// without details); the message names the limit.
#[track_caller]
fn assert_too_large<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    let status = assert_refused(result, Code::ResourceExhausted, "REQUEST_TOO_LARGE");
    assert!(
        status.message().contains("the limit is: 1048576 bytes"),
        "{status:?}"
    );
}

#[tokio::test]
async fn request_messages_over_one_mebibyte_are_refused() {
    let server = start().await;
    let admin = server.admin_token().await;

    // Public RPC: refused before the handler runs.
    assert_too_large(
        server
            .auth()
            .login(iam::LoginRequest {
                username: "admin".into(),
                password: "p".repeat(2 * 1024 * 1024),
            })
            .await,
    );

    // Authenticated RPC.
    let mut huge = register_request("huge");
    huge.display_name = "x".repeat(2 * 1024 * 1024);
    assert_too_large(server.partners(&admin).register_partner(huge).await);

    // Below the limit the message reaches validation.
    let below = server
        .auth()
        .login(iam::LoginRequest {
            username: "admin".into(),
            password: "p".repeat(512 * 1024),
        })
        .await;
    let status = below
        .err()
        .unwrap_or_else(|| panic!("512 KiB password accepted"));
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), vec!["password".to_owned()]);

    // The connection is still usable afterwards.
    server.admin_token().await;
}

#[tokio::test]
async fn oversized_authorization_header_fails_the_call_not_the_server() {
    let server = start().await;
    let admin = server.admin_token().await;

    let side = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let token = "a".repeat(20 * 1024);
    let mut client =
        partner_api::accounts::v1::partner_service_client::PartnerServiceClient::with_interceptor(
            side,
            Bearer::new(&token),
        );
    let refused = client
        .list_partners(accounts::ListPartnersRequest::default())
        .await;
    let status = refused
        .err()
        .unwrap_or_else(|| panic!("20 KiB header accepted"));
    // The HTTP/2 layer answers 431 before any gRPC code runs; a gRPC client
    // maps an HTTP status without grpc-status to UNKNOWN.
    assert_eq!(status.code(), Code::Unknown, "{status:?}");
    assert!(status.message().contains("431"), "{status:?}");

    // A new connection works, and so does the one opened before.
    let fresh = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("reconnect: {e}"));
    let listed = ok(
        partner_api::accounts::v1::partner_service_client::PartnerServiceClient::with_interceptor(
            fresh,
            Bearer::new(&admin),
        )
        .list_partners(accounts::ListPartnersRequest::default())
        .await,
    );
    assert!(listed.partners.is_empty(), "{listed:?}");
    ok(server
        .partners(&admin)
        .list_partners(accounts::ListPartnersRequest::default())
        .await);
}

// ---------------------------------------------------------------------------
// Unknown methods

/// Passes message bytes through unchanged, so that any path can be called.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// Calls `path` with an empty message, as the holder of `token` when given.
async fn call_path(
    channel: Channel,
    path: &'static str,
    token: Option<&str>,
) -> Result<tonic::Response<Vec<u8>>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .unwrap_or_else(|e| panic!("channel not ready: {e}"));
    let mut req = tonic::Request::new(Vec::new());
    if let Some(token) = token {
        let value = format!("Bearer {token}")
            .parse()
            .unwrap_or_else(|_| panic!("token is not a header value"));
        req.metadata_mut().insert("authorization", value);
    }
    grpc.unary(req, http::uri::PathAndQuery::from_static(path), RawCodec)
        .await
}

#[tokio::test]
async fn unknown_methods_are_unimplemented_but_only_after_authentication() {
    let server = start().await;
    let admin = server.admin_token().await;
    let unknown = [
        // An unknown method of a known service.
        "/partner.accounts.v1.PartnerService/DeleteEverything",
        // An unknown service.
        "/partner.billing.v1.InvoiceService/ListInvoices",
        // Close to a public path, but not one.
        "/partner.iam.v1.AuthService/LoginX",
    ];
    for path in unknown {
        // Deny by default: without a token nothing about the path leaks.
        assert_refused(
            call_path(server.channel.clone(), path, None).await,
            Code::Unauthenticated,
            "AUTHENTICATION_REQUIRED",
        );
        let authed = call_path(server.channel.clone(), path, Some(&admin)).await;
        let status = authed.err().unwrap_or_else(|| panic!("{path} answered"));
        assert_eq!(status.code(), Code::Unimplemented, "{path}: {status:?}");
    }
}
