//! Hostile values for every field of every RPC the server describes,
//! generated from the descriptors: a new RPC is covered without anyone
//! editing this file. Each request sets one field (or one field of a nested
//! message) to one hostile value — empty and 70,000-character strings,
//! wrong id prefixes, control characters, invalid UTF-8, integer extremes,
//! unknown enum numbers, Duration and Timestamp seconds at the i64 limits and
//! at chrono's, Money with an unknown currency, negative or overflowing units
//! and mismatched nanos, repeated fields with 5,000 items — and is sent as
//! the operator and as a partner's master. No answer may be INTERNAL,
//! UNKNOWN, CANCELLED or a timeout.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use partner_tests::*;
use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use tonic::{Code, Request, Status};

/// Request bytes passed through as they are, and any answer ignored: the
/// test speaks protobuf by hand so it can say what generated clients refuse to.
#[derive(Debug, Default, Clone, PartialEq)]
struct Raw(Vec<u8>);

impl Message for Raw {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(field: i32, wire: u64, out: &mut Vec<u8>) {
    varint((u64::try_from(field).unwrap_or(0) << 3) | wire, out);
}

/// One field with a value already encoded for its wire type.
#[derive(Debug, Clone)]
enum Wire {
    Varint(u64),
    Bytes(Vec<u8>),
}

fn encode(field: i32, value: &Wire, out: &mut Vec<u8>) {
    match value {
        Wire::Varint(v) => {
            key(field, 0, out);
            varint(*v, out);
        }
        Wire::Bytes(b) => {
            key(field, 2, out);
            varint(b.len() as u64, out);
            out.extend_from_slice(b);
        }
    }
}

/// A message made of the given fields.
fn message(fields: &[(i32, Wire)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        encode(*n, v, &mut out);
    }
    out
}

fn text(s: &str) -> Wire {
    Wire::Bytes(s.as_bytes().to_vec())
}

fn int(v: i64) -> Wire {
    // Negative int32/int64 are sign-extended 10-byte varints.
    Wire::Varint(v as u64)
}

/// The descriptors: messages by full name (`.pkg.Msg`).
struct Types {
    messages: HashMap<String, DescriptorProto>,
}

impl Types {
    fn load() -> (Types, FileDescriptorSet) {
        let set = FileDescriptorSet::decode(partner_api::FILE_DESCRIPTOR_SET)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut messages = HashMap::new();
        for file in &set.file {
            for m in &file.message_type {
                collect(&format!(".{}", file.package()), m, &mut messages);
            }
        }
        (Types { messages }, set)
    }
}

fn collect(prefix: &str, m: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
    let name = format!("{prefix}.{}", m.name());
    for nested in &m.nested_type {
        collect(&name, nested, out);
    }
    out.insert(name, m.clone());
}

const LONG: usize = 70_000;

/// Hostile values of a string field named `name`.
fn strings(name: &str) -> Vec<Wire> {
    let mut out = vec![
        text(""),
        text(&"x".repeat(LONG)),
        text("\u{0}\u{1b}[31m\u{202e}"),
        text("' OR 1=1; DROP TABLE users; --"),
        text("../../etc/passwd"),
        Wire::Bytes(vec![0xff, 0xfe, 0xc3, 0x28]),
    ];
    if name.ends_with("_id") || name == "kid" || name.ends_with("token") {
        // Well-formed ids of the wrong kind, and of no kind at all.
        for prefix in ["prt", "usr", "ak", "rol", "inv", "key", "ses", "zzz"] {
            out.push(text(&format!("{prefix}_0190f0e0a0b07c0d8e0f101112131415")));
        }
        out.push(text("prt_"));
        out.push(text(&format!("prt_{}", "f".repeat(32))));
        out.push(text("00000000-0000-0000-0000-000000000000"));
    }
    out
}

fn int32s() -> Vec<Wire> {
    [0, -1, i64::from(i32::MIN), i64::from(i32::MAX), 1 << 40]
        .into_iter()
        .map(int)
        .collect()
}

fn int64s() -> Vec<Wire> {
    [
        -1,
        i64::MIN,
        i64::MAX,
        // Nine quintillion nanoseconds' worth of seconds, as a careless client sends.
        9_223_372_036_854,
        // chrono's own limits.
        8_210_266_876_799,
        -8_334_601_228_800,
        // Just past year 9999.
        253_402_300_800,
    ]
    .into_iter()
    .map(int)
    .collect()
}

/// Whole-message values for types whose fields only mean something together.
fn special(type_name: &str) -> Vec<Vec<u8>> {
    match type_name {
        ".partner.type.v1.Money" => vec![
            message(&[(1, text("XXX")), (2, int(1))]),
            message(&[(1, text("CNY")), (2, int(1)), (3, int(-5))]),
            message(&[(1, text("CNY")), (2, int(-1)), (3, int(5))]),
            message(&[(1, text("CNY")), (2, int(-100))]),
            message(&[(1, text("CNY")), (3, int(1_000_000_000))]),
            message(&[(1, text("CNY")), (2, int(i64::MAX)), (3, int(999_999_999))]),
            message(&[(1, text("CNY")), (2, int(i64::MIN)), (3, int(-999_999_999))]),
        ],
        ".google.protobuf.Duration" | ".google.protobuf.Timestamp" => vec![
            message(&[(1, int(1)), (2, int(-1))]),
            message(&[(1, int(-1)), (2, int(1))]),
            message(&[(1, int(i64::MAX)), (2, int(999_999_999))]),
            message(&[(1, int(i64::MIN)), (2, int(-999_999_999))]),
        ],
        _ => Vec::new(),
    }
}

/// Hostile encodings of `field`, each complete (a message holding just that
/// field); nested messages are explored to `depth`.
fn encodings(types: &Types, field: &FieldDescriptorProto, depth: usize) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = values(types, field, depth)
        .into_iter()
        .map(|v| message(&[(field.number(), v)]))
        .collect();
    if field.label() == Label::Repeated {
        let item = match field.r#type() {
            Type::String | Type::Bytes => Some(text("x")),
            Type::Message => Some(Wire::Bytes(Vec::new())),
            Type::Double | Type::Float | Type::Group => None,
            _ => Some(int(i64::from(i32::MAX))),
        };
        if let Some(item) = item {
            let mut many = Vec::new();
            for _ in 0..5_000 {
                encode(field.number(), &item, &mut many);
            }
            out.push(many);
        }
    }
    out
}

/// Hostile values of one occurrence of `field`.
fn values(types: &Types, field: &FieldDescriptorProto, depth: usize) -> Vec<Wire> {
    match field.r#type() {
        Type::String | Type::Bytes => strings(field.name()),
        Type::Int32 | Type::Sint32 | Type::Sfixed32 | Type::Fixed32 | Type::Uint32 => int32s(),
        Type::Int64 | Type::Sint64 | Type::Sfixed64 | Type::Fixed64 | Type::Uint64 => {
            let mut v = int64s();
            v.push(Wire::Varint(u64::MAX));
            v
        }
        Type::Enum => [999, -1, i64::from(i32::MAX), i64::from(i32::MIN)]
            .into_iter()
            .map(int)
            .collect(),
        Type::Bool => vec![Wire::Varint(1), Wire::Varint(u64::MAX)],
        Type::Message => {
            let mut v: Vec<Wire> = special(field.type_name())
                .into_iter()
                .map(Wire::Bytes)
                .collect();
            v.push(Wire::Bytes(Vec::new()));
            if depth > 0
                && let Some(inner) = types.messages.get(field.type_name())
            {
                for f in &inner.field {
                    v.extend(encodings(types, f, depth - 1).into_iter().map(Wire::Bytes));
                }
            }
            v
        }
        Type::Double | Type::Float | Type::Group => Vec::new(),
    }
}

/// One request to send.
struct Case {
    method: String,
    body: Vec<u8>,
    what: String,
    /// The server answers with a stream (which may never end by itself).
    streaming: bool,
}

/// The ids a plausible request names: the master's partner and user.
struct Known {
    partner_id: String,
    user_id: String,
}

/// A plausible value for a scalar field, by its name: enough for a request
/// to get past validation to the domain (where, say, a ttl meets a date).
fn plausible_text(name: &str, known: &Known, n: usize) -> String {
    match name {
        "request_id" => uuid::Uuid::new_v4().to_string(),
        "partner_id" | "distributor_id" => known.partner_id.clone(),
        "user_id" | "actor_user_id" => known.user_id.clone(),
        "role_id" => "SALES".into(),
        "email" | "contact_email" => "someone@partners.example".into(),
        "username" | "master_username" => format!("plausible{n}"),
        "password" | "master_password" => "a-valid-password-1".into(),
        "reason" => "because".into(),
        n if n.ends_with("_id") || n.ends_with("token") || n == "kid" || n == "secret" => {
            String::new()
        }
        _ => "plausible".into(),
    }
}

/// The scalar fields of a plausible request (messages and lists left out).
fn plausible(input: &DescriptorProto, known: &Known, n: usize) -> Vec<u8> {
    let mut fields = Vec::new();
    for f in input.field.iter().filter(|f| f.label() != Label::Repeated) {
        let value = match f.r#type() {
            Type::String => text(&plausible_text(f.name(), known, n)),
            Type::Enum | Type::Bool | Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 => {
                Wire::Varint(1)
            }
            _ => continue,
        };
        fields.push((f.number(), value));
    }
    message(&fields)
}

fn cases(known: &Known) -> (Vec<Case>, Vec<String>) {
    let (types, set) = Types::load();
    let mut cases = Vec::new();
    let mut fieldless = Vec::new();
    for file in set
        .file
        .iter()
        .filter(|f| f.package().starts_with("partner."))
    {
        for service in &file.service {
            for method in &service.method {
                let name = format!("{}.{}/{}", file.package(), service.name(), method.name());
                let input = types
                    .messages
                    .get(method.input_type())
                    .unwrap_or_else(|| panic!("{name}: no input type"));
                if input.field.is_empty() {
                    fieldless.push(name);
                    continue;
                }
                for field in &input.field {
                    for (i, hostile) in encodings(&types, field, 2).into_iter().enumerate() {
                        // Alone, and on top of a plausible request (a
                        // later occurrence of a scalar field wins).
                        let mut over = plausible(input, known, cases.len());
                        over.extend_from_slice(&hostile);
                        for (base, body) in [("alone", hostile), ("plausible", over)] {
                            cases.push(Case {
                                method: name.clone(),
                                body,
                                what: format!("{} #{i} {base}", field.name()),
                                streaming: method.server_streaming(),
                            });
                        }
                    }
                }
            }
        }
    }
    (cases, fieldless)
}

async fn call(server: &TestServer, token: &str, case: &Case) -> Result<(), Status> {
    let path: http::uri::PathAndQuery = format!("/{}", case.method)
        .parse()
        .map_err(|e| Status::internal(format!("bad method: {e}")))?;
    let mut grpc = tonic::client::Grpc::new(server.channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut req = Request::new(Raw(case.body.clone()));
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| Status::internal("token is not ASCII"))?;
    req.metadata_mut().insert("authorization", bearer);
    let codec = tonic_prost::ProstCodec::<Raw, Raw>::default();
    if !case.streaming {
        return grpc.unary(req, path, codec).await.map(|_| ());
    }
    // A stream that opened is alive; its first message, or its end, or
    // nothing within a moment (a watch with nothing to say) are all fine,
    // but an error in it counts like a unary one.
    let mut stream = grpc.server_streaming(req, path, codec).await?.into_inner();
    match tokio::time::timeout(Duration::from_millis(300), stream.message()).await {
        Ok(Err(status)) => Err(status),
        Ok(Ok(_)) | Err(_) => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_hostile_value_breaks_any_rpc() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let known = Known {
        partner_id: partner.partner_id.clone(),
        user_id: partner.master_user_id.clone(),
    };
    let (cases, fieldless) = cases(&known);

    // Every RPC with a field is exercised; the rest take no input at all.
    let mut covered: Vec<&str> = cases.iter().map(|c| c.method.as_str()).collect();
    covered.sort_unstable();
    covered.dedup();
    assert_eq!(
        covered.len() + fieldless.len(),
        every_rpc().len(),
        "{fieldless:?}"
    );

    let mut failures = Vec::new();
    let mut sent = 0;
    // The master first: the operator's plausible requests may suspend its partner.
    for token in [&master, &admin] {
        let mut results = futures::stream::iter(cases.iter().map(|case| {
            let server = &server;
            async move {
                let outcome =
                    tokio::time::timeout(Duration::from_secs(20), call(server, token, case)).await;
                (case, outcome)
            }
        }))
        .buffer_unordered(8);
        while let Some((case, outcome)) = results.next().await {
            sent += 1;
            let bad = match &outcome {
                Err(_) => Some("timeout".to_owned()),
                Ok(Err(s))
                    if matches!(
                        s.code(),
                        Code::Internal | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded
                    ) =>
                {
                    Some(format!("{:?}: {}", s.code(), s.message()))
                }
                Ok(_) => None,
            };
            if let Some(bad) = bad {
                let head: Vec<u8> = case.body.iter().take(24).copied().collect();
                failures.push(format!("{} {} {head:02x?}: {bad}", case.method, case.what));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The operator's session survived it all.
    let admin = server.admin_token().await;
    ok(server
        .partners(&admin)
        .list_partners(partner_api::accounts::v1::ListPartnersRequest::default())
        .await);
}
