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

#[tokio::test]
async fn malformed_values_of_every_kind_are_invalid_argument() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let long = "x".repeat(10_000);
    let cases: Vec<(&str, Result<(), tonic::Status>)> = vec![
        (
            "partner_id",
            server
                .partners(&admin)
                .get_partner(pb::GetPartnerRequest {
                    partner_id: String::new(),
                })
                .await
                .map(drop),
        ),
        (
            "partner_id",
            server
                .partners(&admin)
                .get_partner(pb::GetPartnerRequest {
                    partner_id: "usr_0".into(),
                })
                .await
                .map(drop),
        ),
        (
            "partner_id",
            server
                .partners(&admin)
                .get_partner(pb::GetPartnerRequest {
                    partner_id: partner.master_user_id.clone(),
                })
                .await
                .map(drop),
        ),
        (
            "partner_id",
            server
                .partners(&admin)
                .get_partner(pb::GetPartnerRequest {
                    partner_id: long.clone(),
                })
                .await
                .map(drop),
        ),
        (
            "page_size",
            server
                .partners(&admin)
                .list_partners(pb::ListPartnersRequest {
                    page_size: -1,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "state",
            server
                .partners(&admin)
                .list_partners(pb::ListPartnersRequest {
                    state: 99,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "page_token",
            server
                .partners(&admin)
                .list_partners(pb::ListPartnersRequest {
                    page_token: "garbage".into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "display_name_prefix",
            server
                .partners(&admin)
                .list_partners(pb::ListPartnersRequest {
                    display_name_prefix: long.clone(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "update_mask",
            server
                .partners(&master)
                .update_partner(pb::UpdatePartnerRequest {
                    request_id: new_request_id(),
                    partner: Some(pb::Partner {
                        partner_id: partner.partner_id.clone(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["state".into()],
                    }),
                })
                .await
                .map(drop),
        ),
        (
            "update_mask",
            server
                .partners(&master)
                .update_partner(pb::UpdatePartnerRequest {
                    request_id: new_request_id(),
                    partner: Some(pb::Partner {
                        partner_id: partner.partner_id.clone(),
                        ..Default::default()
                    }),
                    update_mask: None,
                })
                .await
                .map(drop),
        ),
        (
            "partner",
            server
                .partners(&master)
                .update_partner(pb::UpdatePartnerRequest {
                    request_id: new_request_id(),
                    partner: None,
                    update_mask: Some(FieldMask {
                        paths: vec!["display_name".into()],
                    }),
                })
                .await
                .map(drop),
        ),
        (
            "partner.display_name",
            server
                .partners(&master)
                .update_partner(pb::UpdatePartnerRequest {
                    request_id: new_request_id(),
                    partner: Some(pb::Partner {
                        partner_id: partner.partner_id.clone(),
                        display_name: "a\u{7}b".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["display_name".into()],
                    }),
                })
                .await
                .map(drop),
        ),
        (
            "reason",
            server
                .partners(&admin)
                .suspend_partner(pb::SuspendPartnerRequest {
                    request_id: new_request_id(),
                    partner_id: partner.partner_id.clone(),
                    reason: String::new(),
                })
                .await
                .map(drop),
        ),
        (
            "request_id",
            server
                .partners(&admin)
                .suspend_partner(pb::SuspendPartnerRequest {
                    request_id: String::new(),
                    partner_id: partner.partner_id.clone(),
                    reason: "why".into(),
                })
                .await
                .map(drop),
        ),
        (
            "user_id",
            server
                .users(&master)
                .get_user(pb::GetUserRequest {
                    user_id: partner.partner_id.clone(),
                })
                .await
                .map(drop),
        ),
        (
            "username",
            server
                .users(&master)
                .create_user(pb::CreateUserRequest {
                    request_id: new_request_id(),
                    username: "UPPER".into(),
                    password: USER_PASSWORD.into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "email",
            server
                .users(&master)
                .create_user(pb::CreateUserRequest {
                    request_id: new_request_id(),
                    username: "valid.name".into(),
                    password: USER_PASSWORD.into(),
                    email: "not an email".into(),
                    ..Default::default()
                })
                .await
                .map(drop),
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
            partner_id: partner.partner_id.clone(),
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
