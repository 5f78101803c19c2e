//! Bad input is refused with INVALID_ARGUMENT and a field violation per bad
//! field — never a panic, never INTERNAL, never a partial write.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

#[tokio::test]
async fn register_partner_reports_every_bad_field() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let status = assert_refused(
        server
            .partners(&admin)
            .register_partner(pb::RegisterPartnerRequest {
                request_id: "not-a-uuid".into(),
                display_name: "   ".into(),
                master_username: "1bad name".into(),
                master_password: "short".into(),
                contact_email: "nobody".into(),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "contact_email",
            "display_name",
            "master_password",
            "master_username",
            "request_id"
        ]
    );
    let listed = ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    assert!(listed.partners.is_empty(), "nothing written");
}

/// The outcome of a call, without its answer.
type Outcome = Result<(), tonic::Status>;

async fn get_partner(server: &TestServer, token: &str, partner_id: &str) -> Outcome {
    let req = pb::GetPartnerRequest {
        partner_id: partner_id.into(),
    };
    server.partners(token).get_partner(req).await.map(drop)
}

async fn list_partners(server: &TestServer, token: &str, req: pb::ListPartnersRequest) -> Outcome {
    server.partners(token).list_partners(req).await.map(drop)
}

/// `UpdatePartner` with `partner` and, when given, a mask of one path.
async fn update_partner(
    server: &TestServer,
    token: &str,
    partner: Option<pb::Partner>,
    path: Option<&str>,
) -> Outcome {
    let req = pb::UpdatePartnerRequest {
        request_id: new_request_id(),
        partner,
        update_mask: path.map(|p| FieldMask {
            paths: vec![p.into()],
        }),
    };
    server.partners(token).update_partner(req).await.map(drop)
}

async fn suspend_partner(
    server: &TestServer,
    token: &str,
    request_id: String,
    partner_id: &str,
    reason: &str,
) -> Outcome {
    let req = pb::SuspendPartnerRequest {
        request_id,
        partner_id: partner_id.into(),
        reason: reason.into(),
    };
    server.partners(token).suspend_partner(req).await.map(drop)
}

async fn create_user(server: &TestServer, token: &str, username: &str, email: &str) -> Outcome {
    let req = pb::CreateUserRequest {
        request_id: new_request_id(),
        username: username.into(),
        password: USER_PASSWORD.into(),
        email: email.into(),
        ..Default::default()
    };
    server.users(token).create_user(req).await.map(drop)
}

#[tokio::test]
async fn malformed_values_of_every_kind_are_invalid_argument() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (s, id) = (&server, partner.partner_id.as_str());
    let long = "x".repeat(10_000);
    let with = |p: pb::Partner| {
        Some(pb::Partner {
            partner_id: id.into(),
            ..p
        })
    };
    let cases: Vec<(&str, Outcome)> = vec![
        ("partner_id", get_partner(s, &admin, "").await),
        ("partner_id", get_partner(s, &admin, "usr_0").await),
        (
            "partner_id",
            get_partner(s, &admin, &partner.master_user_id).await,
        ),
        ("partner_id", get_partner(s, &admin, &long).await),
        (
            "page_size",
            list_partners(
                s,
                &admin,
                pb::ListPartnersRequest {
                    page_size: -1,
                    ..Default::default()
                },
            )
            .await,
        ),
        (
            "state",
            list_partners(
                s,
                &admin,
                pb::ListPartnersRequest {
                    state: 99,
                    ..Default::default()
                },
            )
            .await,
        ),
        (
            "page_token",
            list_partners(
                s,
                &admin,
                pb::ListPartnersRequest {
                    page_token: "garbage".into(),
                    ..Default::default()
                },
            )
            .await,
        ),
        (
            "display_name_prefix",
            list_partners(
                s,
                &admin,
                pb::ListPartnersRequest {
                    display_name_prefix: long.clone(),
                    ..Default::default()
                },
            )
            .await,
        ),
        (
            "update_mask",
            update_partner(s, &master, with(pb::Partner::default()), Some("state")).await,
        ),
        (
            "update_mask",
            update_partner(s, &master, with(pb::Partner::default()), None).await,
        ),
        (
            "partner",
            update_partner(s, &master, None, Some("display_name")).await,
        ),
        (
            "partner.display_name",
            update_partner(
                s,
                &master,
                with(pb::Partner {
                    display_name: "a\u{7}b".into(),
                    ..Default::default()
                }),
                Some("display_name"),
            )
            .await,
        ),
        (
            "reason",
            suspend_partner(s, &admin, new_request_id(), id, "").await,
        ),
        (
            "request_id",
            suspend_partner(s, &admin, String::new(), id, "why").await,
        ),
        (
            "user_id",
            server
                .users(&master)
                .get_user(pb::GetUserRequest { user_id: id.into() })
                .await
                .map(drop),
        ),
        ("username", create_user(s, &master, "UPPER", "").await),
        (
            "email",
            create_user(s, &master, "valid.name", "not an email").await,
        ),
        (
            "state",
            server
                .users(&master)
                .list_users(pb::ListUsersRequest {
                    state: -3,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ];
    for (field, result) in cases {
        let status = assert_refused(result, Code::InvalidArgument, "FIELD_VIOLATION");
        assert!(
            violated_fields(&status).iter().any(|f| f == field),
            "{field}: {status:?}"
        );
    }
    // None of it changed the partner.
    let now = ok(server
        .partners(&admin)
        .get_partner(pb::GetPartnerRequest {
            partner_id: id.into(),
        })
        .await);
    assert_eq!(now.partner, Some(partner));
}

#[tokio::test]
async fn invalid_utf8_in_a_string_field_is_refused_without_a_crash() {
    // prost refuses invalid UTF-8 while decoding; the client is told its request
    // is invalid (not INTERNAL) and the server keeps serving.
    use prost::Message;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    // Field 1 (partner_id), wire type 2, length 2, bytes 0xff 0xfe.
    let raw = vec![0x0a, 0x02, 0xff, 0xfe];
    assert!(pb::GetPartnerRequest::decode(raw.as_slice()).is_err());
    let mut grpc = tonic::client::Grpc::new(server.channel.clone());
    grpc.ready().await.unwrap_or_else(|e| panic!("{e}"));
    let mut request = tonic::Request::new(raw);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {admin}")
            .parse()
            .unwrap_or_else(|_| panic!("metadata")),
    );
    let path =
        http::uri::PathAndQuery::from_static("/partner.accounts.v1.PartnerService/GetPartner");
    let result: Result<tonic::Response<Vec<u8>>, tonic::Status> =
        grpc.unary(request, path, RawCodec).await;
    let status = assert_refused(result, Code::InvalidArgument, "FIELD_VIOLATION");
    assert_eq!(violated_fields(&status), ["request"]);
    // Still serving.
    ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
}

/// Sends and receives raw protobuf bytes.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
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

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes_like::BufMutExt;
        dst.put_all(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes_like::BufExt;
        Ok(Some(src.take_all()))
    }
}

mod bytes_like {
    //! Minimal buffer helpers over tonic's codec buffers, so the test needs no
    //! extra dependency on `bytes`.
    pub trait BufMutExt {
        fn put_all(&mut self, data: &[u8]);
    }
    impl BufMutExt for tonic::codec::EncodeBuf<'_> {
        fn put_all(&mut self, data: &[u8]) {
            prost::bytes::BufMut::put_slice(self, data);
        }
    }
    pub trait BufExt {
        fn take_all(&mut self) -> Vec<u8>;
    }
    impl BufExt for tonic::codec::DecodeBuf<'_> {
        fn take_all(&mut self) -> Vec<u8> {
            use prost::bytes::Buf;
            let mut out = vec![0; self.remaining()];
            self.copy_to_slice(&mut out);
            out
        }
    }
}
