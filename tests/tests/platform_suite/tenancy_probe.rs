//! One cross-tenant probe for every RPC of the platform, enumerated from the
//! service descriptors: a new RPC without a probe here fails this suite.
//! Partner A's master calls each RPC with partner B's ids and must get
//! `NOT_FOUND` (or, for operator-only RPCs, `PERMISSION_DENIED`), and B must be
//! unchanged afterwards.

use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::events::v1 as ev;
use partner_api::iam::v1 as iam;
use partner_api::pricing::v1 as pr;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::{Code, Status};

/// What the probe of one RPC showed.
enum Probe {
    /// Refused with this code and reason, touching nothing of B.
    Refused(Result<(), Status>, Code, &'static str),
    /// Served, but only with A's data (checked inside the probe).
    ScopedToCaller,
    /// Takes no resource id of a tenant (credentials or public keys only).
    NoTenantInput(&'static str),
}

struct World {
    server: TestServer,
    a_master: String,
    a_partner: pb::Partner,
    b_partner: pb::Partner,
    b_user: pb::User,
    b_role: pb::Role,
    /// An operator invitation addressed to B, and its token.
    b_invitation: pb::Invitation,
    b_invitation_token: String,
    b_key: iam::AccessKey,
    b_customer: cu::Customer,
    b_association_invite: cu::AssociationInvite,
    b_lead: cu::Lead,
    b_opportunity: cu::Opportunity,
    b_idp: iam::IdentityProvider,
    b_endpoint: ev::WebhookEndpoint,
    /// One of B's events.
    b_event_id: String,
    /// The discount B set for its customer.
    b_discount: pr::Discount,
    /// A quote B made for its customer.
    b_quote: pr::Quote,
    /// An offer link of a third partner (a solution provider).
    other_link: pr::OfferLink,
    /// A solution of a fourth partner (a software partner).
    other_solution: pr::Solution,
    /// A payment agreement B proposed to its customer.
    b_agreement: partner_api::billing::v1::PaymentAgreement,
    /// A coupon quota the operator granted B.
    b_quota: partner_api::billing::v1::CouponQuota,
    /// A coupon B issued its customer from that quota.
    b_coupon: partner_api::billing::v1::Coupon,
    /// An order B made for its customer.
    b_order: partner_api::billing::v1::Order,
    /// A resource a paid order of B's customer opened.
    b_resource: String,
}

async fn probe(method: &str, w: &World) -> Option<Probe> {
    let a = &w.a_master;
    let b_id = w.b_partner.partner_id.clone();
    let b_user = w.b_user.user_id.clone();
    Some(match method {
        "partner.accounts.v1.PartnerService/GetPartner" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .get_partner(pb::GetPartnerRequest { partner_id: b_id })
                    .await,
            ),
            Code::NotFound,
            "PARTNER_NOT_FOUND",
        ),
        "partner.accounts.v1.PartnerService/UpdatePartner" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .update_partner(pb::UpdatePartnerRequest {
                        request_id: new_request_id(),
                        partner: Some(pb::Partner {
                            partner_id: b_id,
                            display_name: "taken over".into(),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["display_name".into()],
                        }),
                    })
                    .await,
            ),
            Code::NotFound,
            "PARTNER_NOT_FOUND",
        ),
        "partner.accounts.v1.PartnerService/SuspendPartner" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .suspend_partner(pb::SuspendPartnerRequest {
                        request_id: new_request_id(),
                        partner_id: b_id,
                        reason: "x".into(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.accounts.v1.PartnerService/ReinstatePartner" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .reinstate_partner(pb::ReinstatePartnerRequest {
                        request_id: new_request_id(),
                        partner_id: b_id,
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.accounts.v1.PartnerService/RegisterPartner" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .register_partner(register_request("intruder"))
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.accounts.v1.PartnerService/ListPartners" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .list_partners(pb::ListPartnersRequest::default())
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.accounts.v1.UserService/GetUser" => Probe::Refused(
            unit(
                w.server
                    .users(a)
                    .get_user(pb::GetUserRequest { user_id: b_user })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.accounts.v1.UserService/DisableUser" => Probe::Refused(
            unit(
                w.server
                    .users(a)
                    .disable_user(pb::DisableUserRequest {
                        request_id: new_request_id(),
                        user_id: b_user,
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.accounts.v1.UserService/UpdateUser" => Probe::Refused(
            unit(
                w.server
                    .users(a)
                    .update_user(pb::UpdateUserRequest {
                        request_id: new_request_id(),
                        user: Some(pb::User {
                            user_id: b_user.clone(),
                            display_name: "taken over".into(),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["display_name".into()],
                        }),
                    })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.accounts.v1.UserService/EnableUser" => Probe::Refused(
            unit(
                w.server
                    .users(a)
                    .enable_user(pb::EnableUserRequest {
                        request_id: new_request_id(),
                        user_id: b_user.clone(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.accounts.v1.UserService/DeleteUser" => Probe::Refused(
            unit(
                w.server
                    .users(a)
                    .delete_user(pb::DeleteUserRequest {
                        request_id: new_request_id(),
                        user_id: b_user.clone(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.accounts.v1.UserService/CreateUser" => {
            let created = ok(w
                .server
                .users(a)
                .create_user(pb::CreateUserRequest {
                    request_id: new_request_id(),
                    username: "probe.user".into(),
                    password: USER_PASSWORD.into(),
                    ..Default::default()
                })
                .await);
            assert_eq!(
                created.user.map(|u| u.partner_id),
                Some(w.a_partner.partner_id.clone()),
                "tenant from the token"
            );
            // Naming B as a reseller does not reach into B.
            Probe::Refused(
                unit(
                    w.server
                        .users(a)
                        .create_user(pb::CreateUserRequest {
                            request_id: new_request_id(),
                            username: "probe.intruder".into(),
                            password: USER_PASSWORD.into(),
                            reseller_id: b_id,
                            ..Default::default()
                        })
                        .await,
                ),
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            )
        }
        "partner.accounts.v1.UserService/ListUsers" => {
            let listed = ok(w
                .server
                .users(a)
                .list_users(pb::ListUsersRequest::default())
                .await);
            assert!(
                listed
                    .users
                    .iter()
                    .all(|u| u.partner_id == w.a_partner.partner_id),
                "{listed:?}"
            );
            Probe::Refused(
                unit(
                    w.server
                        .users(a)
                        .list_users(pb::ListUsersRequest {
                            reseller_id: b_id,
                            ..Default::default()
                        })
                        .await,
                ),
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            )
        }
        "partner.accounts.v1.ProgramService/ListPrograms" => {
            Probe::NoTenantInput("the fixed program catalog")
        }
        "partner.accounts.v1.ProgramService/CreateInvitation" => Probe::Refused(
            w.server
                .invite(a, pb::Program::Reseller, &b_id)
                .await
                .map(|_| ()),
            Code::PermissionDenied,
            "INVITATION_NOT_ALLOWED",
        ),
        "partner.accounts.v1.ProgramService/ListInvitations" => {
            let listed = ok(w
                .server
                .programs(a)
                .list_invitations(pb::ListInvitationsRequest::default())
                .await);
            assert!(
                listed
                    .invitations
                    .iter()
                    .all(|i| i.inviter_partner_id == w.a_partner.partner_id),
                "{listed:?}"
            );
            Probe::ScopedToCaller
        }
        "partner.accounts.v1.ProgramService/RevokeInvitation" => Probe::Refused(
            unit(
                w.server
                    .programs(a)
                    .revoke_invitation(pb::RevokeInvitationRequest {
                        request_id: new_request_id(),
                        invitation_id: w.b_invitation.invitation_id.clone(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "INVITATION_NOT_FOUND",
        ),
        "partner.accounts.v1.ProgramService/AcceptInvitation" => Probe::Refused(
            unit(
                w.server
                    .programs(a)
                    .accept_invitation(accept_request(&w.b_invitation_token))
                    .await,
            ),
            Code::NotFound,
            "INVITATION_NOT_FOUND",
        ),
        "partner.accounts.v1.ProgramService/SignUpWithInvitation" => Probe::Refused(
            unit(
                w.server
                    .programs_public()
                    .sign_up_with_invitation(pb::SignUpWithInvitationRequest {
                        request_id: new_request_id(),
                        token: w.b_invitation_token.clone(),
                        business_info: Some(business_info()),
                        agreement_accepted: true,
                        master_username: "probe.signup".into(),
                        master_password: USER_PASSWORD.into(),
                        contact_email: "probe@partners.example".into(),
                    })
                    .await,
            ),
            Code::NotFound,
            "INVITATION_NOT_FOUND",
        ),
        "partner.accounts.v1.ResellerService/ListResellers" => {
            let mine = ok(w
                .server
                .resellers(a)
                .list_resellers(pb::ListResellersRequest::default())
                .await);
            assert!(
                mine.resellers
                    .iter()
                    .all(|r| r.distributor_id == w.a_partner.partner_id),
                "{mine:?}"
            );
            Probe::Refused(
                unit(
                    w.server
                        .resellers(a)
                        .list_resellers(pb::ListResellersRequest {
                            distributor_id: b_id,
                            ..Default::default()
                        })
                        .await,
                ),
                Code::NotFound,
                "PARTNER_NOT_FOUND",
            )
        }
        "partner.accounts.v1.ResellerService/SuspendReseller" => Probe::Refused(
            unit(
                w.server
                    .resellers(a)
                    .suspend_reseller(pb::SuspendResellerRequest {
                        request_id: new_request_id(),
                        reseller_id: b_id,
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "RESELLER_NOT_FOUND",
        ),
        "partner.accounts.v1.ResellerService/RestoreReseller" => Probe::Refused(
            unit(
                w.server
                    .resellers(a)
                    .restore_reseller(pb::RestoreResellerRequest {
                        request_id: new_request_id(),
                        reseller_id: b_id,
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "RESELLER_NOT_FOUND",
        ),
        "partner.accounts.v1.AuditService/ListAuditRecords" => {
            let mut audit = w.server.audit(a);
            let mine = ok(audit
                .list_audit_records(pb::ListAuditRecordsRequest::default())
                .await);
            assert!(
                mine.audit_records
                    .iter()
                    .all(|r| r.partner_id == w.a_partner.partner_id),
                "{mine:?}"
            );
            Probe::Refused(
                unit(
                    audit
                        .list_audit_records(pb::ListAuditRecordsRequest {
                            partner_id: b_id,
                            ..Default::default()
                        })
                        .await,
                ),
                Code::NotFound,
                "PARTNER_NOT_FOUND",
            )
        }
        "partner.iam.v1.SigningKeyService/ListSigningKeys" => Probe::Refused(
            unit(
                w.server
                    .signing_keys(a)
                    .list_signing_keys(iam::ListSigningKeysRequest {})
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.iam.v1.SigningKeyService/RotateSigningKey" => Probe::Refused(
            unit(
                w.server
                    .signing_keys(a)
                    .rotate_signing_key(iam::RotateSigningKeyRequest {
                        request_id: new_request_id(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.iam.v1.SigningKeyService/RetireSigningKey" => Probe::Refused(
            unit(
                w.server
                    .signing_keys(a)
                    .retire_signing_key(iam::RetireSigningKeyRequest {
                        request_id: new_request_id(),
                        kid: "key_0".into(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.iam.v1.AuthService/Login" => {
            Probe::NoTenantInput("credentials only; wrong ones are INVALID_CREDENTIALS")
        }
        "partner.iam.v1.AuthService/RefreshToken" => {
            Probe::NoTenantInput("a refresh token is a credential, not an id")
        }
        "partner.iam.v1.AuthService/Logout" => {
            // Ends only the caller's own session: B still works afterwards (checked below).
            let own = w.server.login("alpha", USER_PASSWORD).await;
            ok(w.server.auth_as(&own).logout(iam::LogoutRequest {}).await);
            Probe::ScopedToCaller
        }
        "partner.iam.v1.AuthService/GetJwks" => Probe::NoTenantInput("public keys"),
        "partner.accounts.v1.RoleService/ListPermissions" => {
            Probe::NoTenantInput("the platform-wide permission catalog")
        }
        "partner.accounts.v1.RoleService/ListRoles" => {
            let mine = ok(w
                .server
                .roles(a)
                .list_roles(pb::ListRolesRequest {
                    page_size: 500,
                    ..Default::default()
                })
                .await);
            assert!(
                mine.roles.iter().all(|r| r.role_id != w.b_role.role_id),
                "{mine:?}"
            );
            Probe::ScopedToCaller
        }
        "partner.accounts.v1.RoleService/GetRole" => Probe::Refused(
            unit(
                w.server
                    .roles(a)
                    .get_role(pb::GetRoleRequest {
                        role_id: w.b_role.role_id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "ROLE_NOT_FOUND",
        ),
        "partner.accounts.v1.RoleService/ListRoleMembers" => Probe::Refused(
            unit(
                w.server
                    .roles(a)
                    .list_role_members(pb::ListRoleMembersRequest {
                        role_id: w.b_role.role_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "ROLE_NOT_FOUND",
        ),
        "partner.accounts.v1.RoleService/CreateRole" => {
            Probe::NoTenantInput("creates in the caller's own partner")
        }
        "partner.accounts.v1.RoleService/UpdateRole" => Probe::Refused(
            unit(
                w.server
                    .roles(a)
                    .update_role(pb::UpdateRoleRequest {
                        request_id: new_request_id(),
                        role: Some(pb::Role {
                            role_id: w.b_role.role_id.clone(),
                            display_name: "taken over".into(),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["display_name".into()],
                        }),
                    })
                    .await,
            ),
            Code::NotFound,
            "ROLE_NOT_FOUND",
        ),
        "partner.accounts.v1.RoleService/DeleteRole" => Probe::Refused(
            unit(
                w.server
                    .roles(a)
                    .delete_role(pb::DeleteRoleRequest {
                        request_id: new_request_id(),
                        role_id: w.b_role.role_id.clone(),
                        force: true,
                    })
                    .await,
            ),
            Code::NotFound,
            "ROLE_NOT_FOUND",
        ),
        "partner.accounts.v1.RoleService/AssignRole" => Probe::Refused(
            unit(
                w.server
                    .roles(a)
                    .assign_role(pb::AssignRoleRequest {
                        request_id: new_request_id(),
                        role_id: "ADMIN".into(),
                        user_id: b_user,
                    })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.accounts.v1.RoleService/UnassignRole" => Probe::Refused(
            unit(
                w.server
                    .roles(a)
                    .unassign_role(pb::UnassignRoleRequest {
                        request_id: new_request_id(),
                        role_id: w.b_role.role_id.clone(),
                        user_id: b_user,
                    })
                    .await,
            ),
            Code::NotFound,
            "ROLE_NOT_FOUND",
        ),
        "partner.iam.v1.AuthService/ExchangeAccessKey" => Probe::NoTenantInput(
            "a key id with its secret is a credential; wrong ones are ACCESS_KEY_INVALID",
        ),
        "partner.iam.v1.AuthService/CustomerLogin" => {
            Probe::NoTenantInput("a customer's login name with its password is a credential")
        }
        "partner.iam.v1.AuthService/AssumeCustomer" => Probe::Refused(
            unit(
                w.server
                    .auth_as(a)
                    .assume_customer(iam::AssumeCustomerRequest {
                        customer_id: w.b_customer.customer_id.clone(),
                        reason: "intruder".into(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.iam.v1.AccessKeyService/CreateAccessKey" => Probe::Refused(
            unit(
                w.server
                    .access_keys(a)
                    .create_access_key(iam::CreateAccessKeyRequest {
                        request_id: new_request_id(),
                        user_id: b_user,
                        description: "intruder".into(),
                    })
                    .await,
            ),
            Code::NotFound,
            "USER_NOT_FOUND",
        ),
        "partner.iam.v1.AccessKeyService/ListAccessKeys" => {
            let mut keys = w.server.access_keys(a);
            let mine = ok(keys
                .list_access_keys(iam::ListAccessKeysRequest::default())
                .await);
            assert!(
                mine.access_keys
                    .iter()
                    .all(|k| k.partner_id == w.a_partner.partner_id),
                "{mine:?}"
            );
            Probe::Refused(
                unit(
                    keys.list_access_keys(iam::ListAccessKeysRequest {
                        user_id: b_user,
                        ..Default::default()
                    })
                    .await,
                ),
                Code::NotFound,
                "USER_NOT_FOUND",
            )
        }
        "partner.iam.v1.AccessKeyService/DisableAccessKey" => Probe::Refused(
            unit(
                w.server
                    .access_keys(a)
                    .disable_access_key(iam::DisableAccessKeyRequest {
                        request_id: new_request_id(),
                        access_key_id: w.b_key.access_key_id.clone(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "ACCESS_KEY_NOT_FOUND",
        ),
        "partner.iam.v1.AccessKeyService/DeleteAccessKey" => Probe::Refused(
            unit(
                w.server
                    .access_keys(a)
                    .delete_access_key(iam::DeleteAccessKeyRequest {
                        request_id: new_request_id(),
                        access_key_id: w.b_key.access_key_id.clone(),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "ACCESS_KEY_NOT_FOUND",
        ),
        _ => return probe_customers(method, w).await,
    })
}

/// The probes of the customers domain: A's master with B's customer and
/// sales platform.
async fn probe_customers(method: &str, w: &World) -> Option<Probe> {
    let a = &w.a_master;
    let b_customer = w.b_customer.customer_id.clone();
    let mut client = w.server.customers(a);
    Some(match method {
        "partner.accounts.v1.PartnerService/IssueSalesPlatformId" => Probe::Refused(
            unit(
                w.server
                    .partners(a)
                    .issue_sales_platform_id(pb::IssueSalesPlatformIdRequest {
                        request_id: new_request_id(),
                        partner_id: w.b_partner.partner_id.clone(),
                        sales_platform_id: String::new(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.customers.v1.CustomerService/CreateAssociationInvite" => Probe::Refused(
            unit(
                client
                    .create_association_invite(cu::CreateAssociationInviteRequest {
                        request_id: new_request_id(),
                        xaccount_type: w.b_partner.sales_platform_ids[0].clone(),
                        xaccount_id: "crm-intruder".into(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "SALES_PLATFORM_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/RevokeAssociationInvite" => Probe::Refused(
            unit(
                client
                    .revoke_association_invite(cu::RevokeAssociationInviteRequest {
                        request_id: new_request_id(),
                        invite_id: w.b_association_invite.invite_id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "INVITE_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/AcceptAssociationInvite" => Probe::Refused(
            unit(
                client
                    .accept_association_invite(cu::AcceptAssociationInviteRequest {
                        request_id: new_request_id(),
                        token: "prt_ai_intruder".into(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.customers.v1.CustomerService/SignUpWithAssociationInvite" => {
            Probe::NoTenantInput("the invitation's secret token is the credential")
        }
        "partner.customers.v1.CustomerService/ChangeOwnPassword" => Probe::Refused(
            unit(
                client
                    .change_own_password(cu::ChangeOwnPasswordRequest {
                        request_id: new_request_id(),
                        current_password: "intruder-1".into(),
                        new_password: "intruder-password-1".into(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.customers.v1.CustomerService/SetCustomerFacts" => Probe::Refused(
            unit(
                client
                    .set_customer_facts(cu::SetCustomerFactsRequest {
                        request_id: new_request_id(),
                        customer_id: w.b_customer.customer_id.clone(),
                        facts: Some(cu::CustomerFacts {
                            reported: true,
                            ..Default::default()
                        }),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.customers.v1.CustomerService/CheckCustomerIdentity" => Probe::NoTenantInput(
            "identities are one platform-wide namespace; the answer names no customer",
        ),
        "partner.customers.v1.CustomerService/CreateCustomer" => Probe::Refused(
            unit(
                client
                    .create_customer(create_customer_request(&w.b_partner, "crm-intruder"))
                    .await,
            ),
            Code::NotFound,
            "SALES_PLATFORM_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/GetCustomer" => Probe::Refused(
            unit(
                client
                    .get_customer(cu::GetCustomerRequest {
                        customer_id: b_customer,
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/BatchGetCustomers" => {
            let got = ok(client
                .batch_get_customers(cu::BatchGetCustomersRequest {
                    customer_ids: vec![b_customer],
                    reseller_id: String::new(),
                })
                .await);
            assert!(got.results[0].customer.is_none(), "{got:?}");
            assert_eq!(got.results[0].error_reason, "CUSTOMER_NOT_FOUND");
            Probe::ScopedToCaller
        }
        "partner.customers.v1.CustomerService/ListCustomers" => {
            let got = ok(client
                .list_customers(cu::ListCustomersRequest::default())
                .await);
            assert!(
                got.customers
                    .iter()
                    .all(|c| c.partner_id == w.a_partner.partner_id),
                "{got:?}"
            );
            Probe::Refused(
                unit(
                    client
                        .list_customers(cu::ListCustomersRequest {
                            reseller_id: w.b_partner.partner_id.clone(),
                            ..Default::default()
                        })
                        .await,
                ),
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            )
        }
        "partner.customers.v1.CustomerService/UpdateCustomer" => Probe::Refused(
            unit(
                client
                    .update_customer(cu::UpdateCustomerRequest {
                        request_id: new_request_id(),
                        customer: Some(cu::Customer {
                            customer_id: b_customer,
                            labels: vec!["taken over".into()],
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["labels".into()],
                        }),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/FreezeCustomers" => {
            let got = ok(client
                .freeze_customers(cu::FreezeCustomersRequest {
                    request_id: new_request_id(),
                    customer_ids: vec![b_customer],
                    mode: cu::FreezeMode::Account as i32,
                    reason: "intruder".into(),
                    reseller_id: String::new(),
                })
                .await);
            assert_eq!(got.results[0].error_reason, "CUSTOMER_NOT_FOUND");
            Probe::ScopedToCaller
        }
        "partner.customers.v1.CustomerService/UnfreezeCustomers" => {
            let got = ok(client
                .unfreeze_customers(cu::UnfreezeCustomersRequest {
                    request_id: new_request_id(),
                    customer_ids: vec![b_customer],
                    reason: "intruder".into(),
                    reseller_id: String::new(),
                })
                .await);
            assert_eq!(got.results[0].error_reason, "CUSTOMER_NOT_FOUND");
            Probe::ScopedToCaller
        }
        "partner.customers.v1.CustomerService/DisassociateCustomer" => Probe::Refused(
            unit(
                client
                    .disassociate_customer(cu::DisassociateCustomerRequest {
                        request_id: new_request_id(),
                        customer_id: w.b_customer.customer_id.clone(),
                        reason: "intruder".into(),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/SetCustomerBudget" => Probe::Refused(
            unit(
                client
                    .set_customer_budget(cu::SetCustomerBudgetRequest {
                        request_id: new_request_id(),
                        customer_id: w.b_customer.customer_id.clone(),
                        amount: Some(partner_api::r#type::v1::Money {
                            currency_code: "CNY".into(),
                            units: 1,
                            nanos: 0,
                        }),
                        budget_type: cu::BudgetType::Monthly as i32,
                        auto_freeze: true,
                        reseller_id: String::new(),
                        lift_budget_freeze: false,
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/GetCustomerBudget" => Probe::Refused(
            unit(
                client
                    .get_customer_budget(cu::GetCustomerBudgetRequest {
                        customer_id: w.b_customer.customer_id.clone(),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/BatchGetCustomerBudgets" => {
            let got = ok(client
                .batch_get_customer_budgets(cu::BatchGetCustomerBudgetsRequest {
                    customer_ids: vec![w.b_customer.customer_id.clone()],
                    reseller_id: String::new(),
                })
                .await);
            assert_eq!(got.results[0].error_reason, "CUSTOMER_NOT_FOUND");
            assert!(got.results[0].budget.is_none());
            Probe::ScopedToCaller
        }
        "partner.customers.v1.CustomerService/ListBudgetRecords" => Probe::Refused(
            unit(
                client
                    .list_budget_records(cu::ListBudgetRecordsRequest {
                        customer_id: w.b_customer.customer_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/SubmitIndividualVerification" => Probe::Refused(
            unit(
                client
                    .submit_individual_verification(cu::SubmitIndividualVerificationRequest {
                        request_id: new_request_id(),
                        customer_id: w.b_customer.customer_id.clone(),
                        individual: Some(cu::IndividualDetails {
                            full_name: "Intruder".into(),
                            document_type: cu::IdentityDocumentType::Passport as i32,
                            document_number: "E0000000".into(),
                        }),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/SubmitEnterpriseVerification" => Probe::Refused(
            unit(
                client
                    .submit_enterprise_verification(cu::SubmitEnterpriseVerificationRequest {
                        request_id: new_request_id(),
                        customer_id: w.b_customer.customer_id.clone(),
                        enterprise: Some(intruder_company()),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/ChangeToEnterpriseVerification" => Probe::Refused(
            unit(
                client
                    .change_to_enterprise_verification(cu::ChangeToEnterpriseVerificationRequest {
                        request_id: new_request_id(),
                        customer_id: w.b_customer.customer_id.clone(),
                        enterprise: Some(intruder_company()),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/GetVerificationReview" => Probe::Refused(
            unit(
                client
                    .get_verification_review(cu::GetVerificationReviewRequest {
                        customer_id: w.b_customer.customer_id.clone(),
                        reseller_id: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        ),
        "partner.customers.v1.CustomerService/ReviewVerification" => Probe::Refused(
            unit(
                client
                    .review_verification(cu::ReviewVerificationRequest {
                        request_id: new_request_id(),
                        verification_id: format!("vrf_{}", "0".repeat(32)),
                        approve: true,
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        "partner.customers.v1.LeadService/CreateLead" => {
            Probe::NoTenantInput("creates a lead of the caller's own partner")
        }
        "partner.customers.v1.LeadService/GetLead" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .get_lead(cu::GetLeadRequest {
                        lead_id: w.b_lead.lead_id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "LEAD_NOT_FOUND",
        ),
        "partner.customers.v1.LeadService/ListLeads" => {
            let got = ok(w
                .server
                .leads(a)
                .list_leads(cu::ListLeadsRequest::default())
                .await);
            assert!(
                got.leads
                    .iter()
                    .all(|l| l.partner_id == w.a_partner.partner_id),
                "{got:?}"
            );
            Probe::Refused(
                unit(
                    w.server
                        .leads(a)
                        .list_leads(cu::ListLeadsRequest {
                            partner_id: w.b_partner.partner_id.clone(),
                            ..Default::default()
                        })
                        .await,
                ),
                Code::PermissionDenied,
                "MISSING_PERMISSION",
            )
        }
        "partner.customers.v1.LeadService/UpdateLead" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .update_lead(cu::UpdateLeadRequest {
                        request_id: new_request_id(),
                        lead: Some(cu::Lead {
                            lead_id: w.b_lead.lead_id.clone(),
                            company_name: "taken over".into(),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["company_name".into()],
                        }),
                    })
                    .await,
            ),
            Code::NotFound,
            "LEAD_NOT_FOUND",
        ),
        "partner.customers.v1.LeadService/AddFollowUp" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .add_follow_up(cu::AddFollowUpRequest {
                        request_id: new_request_id(),
                        lead_id: w.b_lead.lead_id.clone(),
                        note: "intruder".into(),
                    })
                    .await,
            ),
            Code::NotFound,
            "LEAD_NOT_FOUND",
        ),
        "partner.customers.v1.LeadService/CloseLead" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .close_lead(cu::CloseLeadRequest {
                        request_id: new_request_id(),
                        lead_id: w.b_lead.lead_id.clone(),
                        reason: "intruder".into(),
                    })
                    .await,
            ),
            Code::NotFound,
            "LEAD_NOT_FOUND",
        ),
        "partner.customers.v1.LeadService/ConvertLead" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .convert_lead(cu::ConvertLeadRequest {
                        request_id: new_request_id(),
                        lead_id: w.b_lead.lead_id.clone(),
                        customer_id: w.b_customer.customer_id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "LEAD_NOT_FOUND",
        ),
        "partner.customers.v1.LeadService/RequestOutboundCall" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .request_outbound_call(cu::RequestOutboundCallRequest {
                        request_id: new_request_id(),
                        lead_id: w.b_lead.lead_id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "LEAD_NOT_FOUND",
        ),
        "partner.customers.v1.LeadService/DispatchLead" => Probe::Refused(
            unit(
                w.server
                    .leads(a)
                    .dispatch_lead(cu::DispatchLeadRequest {
                        request_id: new_request_id(),
                        lead_id: w.b_lead.lead_id.clone(),
                        partner_id: w.a_partner.partner_id.clone(),
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        m if m.starts_with("partner.customers.v1.OpportunityService/") => {
            return probe_opportunities(m, w).await;
        }
        "partner.events.v1.EventService/ListEvents" => {
            let got = ok(w
                .server
                .events(a)
                .list_events(partner_api::events::v1::ListEventsRequest {
                    page_size: 500,
                    ..Default::default()
                })
                .await);
            assert!(
                got.events
                    .iter()
                    .all(|e| e.partner_id == w.a_partner.partner_id),
                "{got:?}"
            );
            Probe::ScopedToCaller
        }
        "partner.events.v1.EventService/WatchEvents" => {
            // A's first event (its registration) comes first; none of B's ever do.
            let mut stream = ok(w
                .server
                .events(a)
                .watch_events(partner_api::events::v1::WatchEventsRequest::default())
                .await);
            let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
                .await
                .unwrap_or_else(|_| panic!("no event within 10 s"))
                .unwrap_or_else(|e| panic!("{e:?}"))
                .and_then(|m| m.event)
                .unwrap_or_else(|| panic!("stream ended"));
            assert_eq!(first.partner_id, w.a_partner.partner_id);
            Probe::ScopedToCaller
        }
        m if m.starts_with("partner.events.v1.WebhookService/") => {
            return probe_webhooks(m, w).await;
        }
        "partner.pricing.v1.CatalogService/ImportCatalog" => Probe::Refused(
            unit(
                w.server
                    .catalog(&w.a_master)
                    .import_catalog(pr::ImportCatalogRequest {
                        request_id: new_request_id(),
                        format: pr::CatalogFormat::Csv as i32,
                        content: "record".into(),
                        effective_time: None,
                    })
                    .await,
            ),
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        ),
        m if m.starts_with("partner.pricing.v1.CatalogService/") => Probe::NoTenantInput(
            "the platform's catalog and list prices, the same for every partner; no tenant's ids",
        ),
        m if m.starts_with("partner.pricing.v1.") => return probe_pricing(m, w).await,
        m if m.starts_with("partner.billing.v1.") => return probe_billing(m, w).await,
        _ => return probe_federation(method, w).await,
    })
}

/// The probes of webhooks: A's master with B's endpoint and event.
async fn probe_webhooks(method: &str, w: &World) -> Option<Probe> {
    let h = w.server.webhooks(&w.a_master);
    let b = w.b_endpoint.id.clone();
    let not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "WEBHOOK_ENDPOINT_NOT_FOUND");
    let method = method.strip_prefix("partner.events.v1.WebhookService/")?;
    Some(match method {
        "CreateWebhookEndpoint" => Probe::NoTenantInput(
            "creates an endpoint of the caller's partner; it receives only that partner's events",
        ),
        "GetWebhookEndpoint" => not_found(unit(
            h.clone()
                .get_webhook_endpoint(ev::GetWebhookEndpointRequest { id: b })
                .await,
        )),
        "ListWebhookEndpoints" => {
            let listed = ok(h
                .clone()
                .list_webhook_endpoints(ev::ListWebhookEndpointsRequest {})
                .await);
            assert!(
                listed
                    .endpoints
                    .iter()
                    .all(|e| e.partner_id == w.a_partner.partner_id),
                "{listed:?}"
            );
            Probe::ScopedToCaller
        }
        "UpdateWebhookEndpoint" => not_found(unit(
            h.clone()
                .update_webhook_endpoint(ev::UpdateWebhookEndpointRequest {
                    request_id: new_request_id(),
                    id: b,
                    url: "https://hooks.alpha.example.com/stolen".into(),
                    update_mask: Some(FieldMask {
                        paths: vec!["url".into()],
                    }),
                    ..Default::default()
                })
                .await,
        )),
        "RotateWebhookSecret" => not_found(unit(
            h.clone()
                .rotate_webhook_secret(ev::RotateWebhookSecretRequest {
                    request_id: new_request_id(),
                    id: b,
                    previous_secret_ttl: None,
                })
                .await,
        )),
        "DeleteWebhookEndpoint" => not_found(unit(
            h.clone()
                .delete_webhook_endpoint(ev::DeleteWebhookEndpointRequest {
                    request_id: new_request_id(),
                    id: b,
                })
                .await,
        )),
        "SendTestEvent" => not_found(unit(
            h.clone()
                .send_test_event(ev::SendTestEventRequest {
                    request_id: new_request_id(),
                    endpoint_id: b,
                })
                .await,
        )),
        "ListDeliveries" => not_found(unit(
            h.clone()
                .list_deliveries(ev::ListDeliveriesRequest {
                    endpoint_id: b,
                    ..Default::default()
                })
                .await,
        )),
        "RedeliverEvent" => {
            // A's own endpoint with B's event: the event is not found.
            let mine = ok(h
                .clone()
                .create_webhook_endpoint(ev::CreateWebhookEndpointRequest {
                    request_id: new_request_id(),
                    url: "https://hooks.alpha.example.com/".into(),
                    ..Default::default()
                })
                .await)
            .endpoint
            .unwrap_or_default();
            Probe::Refused(
                unit(
                    h.clone()
                        .redeliver_event(ev::RedeliverEventRequest {
                            request_id: new_request_id(),
                            endpoint_id: mine.id,
                            event_id: w.b_event_id.clone(),
                        })
                        .await,
                ),
                Code::NotFound,
                "EVENT_NOT_FOUND",
            )
        }
        _ => return None,
    })
}

#[tokio::test]
async fn every_rpc_has_a_cross_tenant_probe_and_none_leaks() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (a_partner, a_master) = server.register_partner(&admin, "alpha").await;
    let (b_partner, b_master) = server.register_partner(&admin, "beta").await;
    let (b_user, _) = server.create_user(&b_master, "beta.user").await;
    let b_role = ok(server
        .roles(&b_master)
        .create_role(pb::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                display_name: "Beta auditors".into(),
                permission_ids: vec!["audit.read".into()],
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap_or_else(|| panic!("no role"));
    ok(server
        .roles(&b_master)
        .assign_role(pb::AssignRoleRequest {
            request_id: new_request_id(),
            role_id: b_role.role_id.clone(),
            user_id: b_user.user_id.clone(),
        })
        .await);
    // As the probes will find it: holding its role.
    let b_user = ok(server
        .users(&b_master)
        .get_user(pb::GetUserRequest {
            user_id: b_user.user_id.clone(),
        })
        .await)
    .user
    .unwrap_or_else(|| panic!("no user"));
    let b_role = ok(server
        .roles(&b_master)
        .get_role(pb::GetRoleRequest {
            role_id: b_role.role_id.clone(),
        })
        .await)
    .role
    .unwrap_or_else(|| panic!("no role"));
    let (b_invitation, b_invitation_token) = server
        .invite(&admin, pb::Program::SolutionProvider, &b_partner.partner_id)
        .await
        .unwrap_or_else(|e| panic!("invite beta: {e:?}"));
    let b_key = ok(server
        .access_keys(&b_master)
        .create_access_key(iam::CreateAccessKeyRequest {
            request_id: new_request_id(),
            user_id: b_user.user_id.clone(),
            description: "beta's system".into(),
        })
        .await)
    .access_key
    .unwrap_or_else(|| panic!("no key"));
    let b_customer = server
        .create_customer(&b_master, &b_partner, "crm-beta")
        .await;
    // B holds money, and so does its customer.
    server.top_up(&admin, &b_partner.partner_id, 10_000).await;
    ok(server
        .funds(&b_master)
        .transfer_to_customer(partner_api::billing::v1::TransferToCustomerRequest {
            request_id: new_request_id(),
            customer_id: b_customer.customer_id.clone(),
            amount: Some(cny(5_000)),
            ..Default::default()
        })
        .await);
    let b_lead = ok(server
        .leads(&b_master)
        .create_lead(cu::CreateLeadRequest {
            request_id: new_request_id(),
            lead: Some(cu::Lead {
                company_name: "Beta prospect".into(),
                email: "prospect@beta.example".into(),
                ..Default::default()
            }),
        })
        .await)
    .lead
    .unwrap_or_default();
    let b_opportunity = ok(server
        .opportunities(&b_master)
        .submit_opportunity(cu::SubmitOpportunityRequest {
            request_id: new_request_id(),
            opportunity: Some(cu::Opportunity {
                customer_name: "Beta prospect".into(),
                customer_email: "deal@beta-prospect.example".into(),
                country: "CN".into(),
                ..Default::default()
            }),
        })
        .await)
    .opportunity
    .unwrap_or_default();
    let b_association_invite = ok(server
        .customers(&b_master)
        .create_association_invite(cu::CreateAssociationInviteRequest {
            request_id: new_request_id(),
            ..Default::default()
        })
        .await)
    .invite
    .unwrap_or_default();
    let b_idp = server.register_fixture_idp(&b_master, &b_partner).await;
    let b_endpoint = ok(server
        .webhooks(&b_master)
        .create_webhook_endpoint(ev::CreateWebhookEndpointRequest {
            request_id: new_request_id(),
            url: "https://hooks.beta.example.com/".into(),
            ..Default::default()
        })
        .await)
    .endpoint
    .unwrap_or_default();
    let b_event_id = ok(server
        .events(&b_master)
        .list_events(ev::ListEventsRequest::default())
        .await)
    .events
    .first()
    .map(|e| e.event_id.clone())
    .unwrap_or_else(|| panic!("B has events"));
    let admin = server.admin_token().await;
    ok(server
        .discounts(&admin)
        .create_incentive_policy(pr::CreateIncentivePolicyRequest {
            request_id: new_request_id(),
            partner_id: b_partner.partner_id.clone(),
            max_rate_off: "0.2".into(),
            ..Default::default()
        })
        .await);
    let b_discount = ok(server
        .discounts(&b_master)
        .set_customer_discount(pr::SetCustomerDiscountRequest {
            request_id: new_request_id(),
            customer_id: b_customer.customer_id.clone(),
            rate_off: "0.1".into(),
            ..Default::default()
        })
        .await)
    .discount
    .unwrap_or_default();
    let b_quote = ok(server
        .quotes(&b_master)
        .create_quote(pr::CreateQuoteRequest {
            request_id: new_request_id(),
            customer_id: b_customer.customer_id.clone(),
            lines: vec![pr::PeriodProductLine {
                line_id: "1".into(),
                service_type: "compute".into(),
                resource_type: "vm".into(),
                spec: "c6.large.2".into(),
                region: "cn-north-1".into(),
                period_unit: pr::PeriodUnit::Month as i32,
                period_count: 1,
                quantity: 1,
                main_line_id: String::new(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await)
    .quote
    .unwrap_or_default();
    let (_, gamma_master) = server
        .enrolled_partner(&admin, "gamma", pb::Program::SolutionProvider)
        .await;
    let other_link = ok(server
        .offer_links(&gamma_master)
        .create_offer_link(pr::CreateOfferLinkRequest {
            request_id: new_request_id(),
            name: "gamma's offer".into(),
            product: Some(pr::OfferProduct {
                service_type: "compute".into(),
                resource_type: "vm".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await)
    .link
    .unwrap_or_default();
    let (_, sigma_master) = server
        .enrolled_partner(&admin, "sigma", pb::Program::SoftwarePartner)
        .await;
    let other_solution = ok(server
        .solutions(&sigma_master)
        .create_solution(pr::CreateSolutionRequest {
            request_id: new_request_id(),
            name: "sigma's solution".into(),
            description: String::new(),
        })
        .await)
    .solution
    .unwrap_or_default();
    let b_agreement = ok(server
        .payment_agreements(&b_master)
        .create_payment_agreement(partner_api::billing::v1::CreatePaymentAgreementRequest {
            request_id: new_request_id(),
            r#type: partner_api::billing::v1::PaymentAgreementType::Customer as i32,
            payee_id: b_customer.customer_id.clone(),
        })
        .await)
    .agreement
    .unwrap_or_default();
    let b_quota = ok(server
        .coupons(&admin)
        .grant_coupon_quota(partner_api::billing::v1::GrantCouponQuotaRequest {
            request_id: new_request_id(),
            partner_id: b_partner.partner_id.clone(),
            r#type: partner_api::billing::v1::CouponType::Voucher as i32,
            value: Some(cny(10_000)),
            valid_until: Some(prost_types::Timestamp {
                seconds: 4_000_000_000,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await)
    .quota
    .unwrap_or_default();
    let b_coupon = ok(server
        .coupons(&b_master)
        .issue_coupons(partner_api::billing::v1::IssueCouponsRequest {
            request_id: new_request_id(),
            quota_id: b_quota.id.clone(),
            customer_ids: vec![b_customer.customer_id.clone()],
            face_value: Some(cny(1_000)),
            ..Default::default()
        })
        .await)
    .results
    .into_iter()
    .next()
    .and_then(|r| r.coupon)
    .unwrap_or_default();
    let b_order = ok(server
        .orders(&b_master)
        .create_order(partner_api::billing::v1::CreateOrderRequest {
            request_id: new_request_id(),
            customer_id: b_customer.customer_id.clone(),
            lines: vec![pr::PeriodProductLine {
                line_id: "1".into(),
                service_type: "compute".into(),
                resource_type: "vm".into(),
                spec: "c6.large.2".into(),
                region: "cn-north-1".into(),
                period_unit: pr::PeriodUnit::Month as i32,
                period_count: 1,
                quantity: 1,
                main_line_id: String::new(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await)
    .order
    .unwrap_or_default();
    // B funds its customer, which buys a month of a VM: one resource.
    server.top_up(&admin, &b_partner.partner_id, 100_000).await;
    ok(server
        .funds(&b_master)
        .transfer_to_customer(partner_api::billing::v1::TransferToCustomerRequest {
            request_id: new_request_id(),
            customer_id: b_customer.customer_id.clone(),
            amount: Some(cny(100_000)),
            ..Default::default()
        })
        .await);
    let b_paid = ok(server
        .orders(&b_master)
        .create_order(partner_api::billing::v1::CreateOrderRequest {
            request_id: new_request_id(),
            customer_id: b_customer.customer_id.clone(),
            lines: b_order
                .lines
                .iter()
                .filter_map(|l| l.product.clone())
                .collect(),
            ..Default::default()
        })
        .await)
    .order
    .unwrap_or_default();
    let b_resource = ok(server
        .orders(&b_master)
        .pay_order(partner_api::billing::v1::PayOrderRequest {
            request_id: new_request_id(),
            id: b_paid.id,
            ..Default::default()
        })
        .await)
    .order
    .unwrap_or_default()
    .lines
    .first()
    .and_then(|l| l.resource_ids.first().cloned())
    .unwrap_or_default();
    let world = World {
        b_resource,
        b_order,
        b_quota,
        b_coupon,
        b_agreement,
        other_solution,
        other_link,
        b_quote,
        b_discount,
        b_idp,
        b_endpoint,
        b_event_id,
        b_customer,
        b_association_invite,
        b_lead,
        b_opportunity,
        server,
        a_master,
        a_partner,
        b_partner,
        b_user,
        b_role,
        b_invitation,
        b_invitation_token,
        b_key,
    };

    let mut missing = Vec::new();
    for method in every_rpc() {
        match probe(&method, &world).await {
            None => missing.push(method),
            Some(Probe::Refused(result, code, reason)) => {
                let status = result
                    .err()
                    .unwrap_or_else(|| panic!("{method}: served another tenant's data"));
                assert_eq!(
                    (status.code(), reason_of(&status)),
                    (code, reason.to_owned()),
                    "{method}: {status:?}"
                );
            }
            Some(Probe::NoTenantInput(why)) => assert!(!why.is_empty(), "{method}: say why"),
            Some(Probe::ScopedToCaller) => {}
        }
    }
    assert!(
        missing.is_empty(),
        "RPCs without a cross-tenant probe: {missing:?}"
    );

    // B is exactly as it was.
    let b_master = world.server.login("beta", USER_PASSWORD).await;
    let b_now = ok(world
        .server
        .partners(&b_master)
        .get_partner(pb::GetPartnerRequest {
            partner_id: world.b_partner.partner_id.clone(),
        })
        .await);
    assert_eq!(b_now.partner.as_ref(), Some(&world.b_partner));
    let b_user_now = ok(world
        .server
        .users(&b_master)
        .get_user(pb::GetUserRequest {
            user_id: world.b_user.user_id.clone(),
        })
        .await);
    assert_eq!(b_user_now.user.as_ref(), Some(&world.b_user));
    let b_role_now = ok(world
        .server
        .roles(&b_master)
        .get_role(pb::GetRoleRequest {
            role_id: world.b_role.role_id.clone(),
        })
        .await);
    assert_eq!(b_role_now.role.as_ref(), Some(&world.b_role));
    // B's invitation is still open: B can accept it.
    let accepted = world
        .server
        .accept(&b_master, &world.b_invitation_token)
        .await
        .unwrap_or_else(|e| panic!("B accepts its invitation: {e:?}"));
    assert_eq!(
        accepted.partner.map(|p| p.programs.len()),
        Some(1),
        "B joined exactly its program"
    );
    let b_keys = ok(world
        .server
        .access_keys(&b_master)
        .list_access_keys(iam::ListAccessKeysRequest::default())
        .await);
    assert_eq!(b_keys.access_keys, std::slice::from_ref(&world.b_key));
    let b_customer_now = ok(world
        .server
        .customers(&b_master)
        .get_customer(cu::GetCustomerRequest {
            customer_id: world.b_customer.customer_id.clone(),
            reseller_id: String::new(),
        })
        .await);
    assert_eq!(b_customer_now.customer.as_ref(), Some(&world.b_customer));
    let b_lead_now = ok(world
        .server
        .leads(&b_master)
        .get_lead(cu::GetLeadRequest {
            lead_id: world.b_lead.lead_id.clone(),
        })
        .await);
    assert_eq!(b_lead_now.lead.as_ref(), Some(&world.b_lead));
    assert!(b_lead_now.follow_ups.is_empty());
    let b_opportunity_now = ok(world
        .server
        .opportunities(&b_master)
        .get_opportunity(cu::GetOpportunityRequest {
            opportunity_id: world.b_opportunity.opportunity_id.clone(),
        })
        .await);
    assert_eq!(
        b_opportunity_now.opportunity.as_ref(),
        Some(&world.b_opportunity)
    );
    let b_endpoint_now = ok(world
        .server
        .webhooks(&b_master)
        .get_webhook_endpoint(ev::GetWebhookEndpointRequest {
            id: world.b_endpoint.id.clone(),
        })
        .await)
    .endpoint
    .unwrap_or_default();
    assert_eq!(
        (&b_endpoint_now.url, b_endpoint_now.update_time),
        (&world.b_endpoint.url, world.b_endpoint.update_time)
    );
    let b_manual = ok(world
        .server
        .webhooks(&b_master)
        .list_deliveries(ev::ListDeliveriesRequest {
            endpoint_id: world.b_endpoint.id.clone(),
            ..Default::default()
        })
        .await)
    .deliveries;
    assert!(b_manual.iter().all(|d| !d.manual), "{b_manual:?}");
    let b_idp_now = ok(world
        .server
        .federation(&b_master)
        .get_identity_provider(iam::GetIdentityProviderRequest {
            id: world.b_idp.id.clone(),
        })
        .await);
    assert_eq!(b_idp_now.identity_provider.as_ref(), Some(&world.b_idp));
    let b_discount_now = ok(world
        .server
        .discounts(&b_master)
        .get_discount(pr::GetDiscountRequest {
            id: world.b_discount.id.clone(),
        })
        .await);
    assert_eq!(b_discount_now.discount.as_ref(), Some(&world.b_discount));
    let b_quotes = ok(world
        .server
        .quotes(&b_master)
        .list_quotes(pr::ListQuotesRequest::default())
        .await)
    .quotes;
    assert_eq!(b_quotes, vec![world.b_quote.clone()]);
    let b_funds = ok(world
        .server
        .funds(&b_master)
        .get_balances(partner_api::billing::v1::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(b_funds.len(), 1, "{b_funds:?}");
    assert_eq!(minor_of(b_funds[0].balance.as_ref()), 5_000);
    let b_agreement_now = ok(world
        .server
        .payment_agreements(&b_master)
        .get_payment_agreement(partner_api::billing::v1::GetPaymentAgreementRequest {
            id: world.b_agreement.id.clone(),
        })
        .await)
    .agreement;
    assert_eq!(b_agreement_now.as_ref(), Some(&world.b_agreement));
    // B's order still waits for payment.
    let b_order_now = ok(world
        .server
        .orders(&b_master)
        .get_order(partner_api::billing::v1::GetOrderRequest {
            id: world.b_order.id.clone(),
            ..Default::default()
        })
        .await)
    .order;
    assert_eq!(b_order_now.as_ref(), Some(&world.b_order));
    // B's quota and coupon are as B left them.
    let b_coupons = ok(world
        .server
        .coupons(&b_master)
        .list_issued_coupons(partner_api::billing::v1::ListIssuedCouponsRequest::default())
        .await)
    .coupons;
    assert_eq!(b_coupons, std::slice::from_ref(&world.b_coupon));
    let b_quotas = ok(world
        .server
        .coupons(&b_master)
        .list_coupon_quotas(partner_api::billing::v1::ListCouponQuotasRequest::default())
        .await)
    .quotas;
    assert_eq!(b_quotas.len(), 1);
    assert_eq!(minor_of(b_quotas[0].balance.as_ref()), 9_000);
    world.server.assert_ledger_clean().await;
    let still = ok(world
        .server
        .offer_links_anonymous()
        .resolve_offer_link(pr::ResolveOfferLinkRequest {
            token: world.other_link.token.clone(),
        })
        .await);
    assert_eq!(still.name, world.other_link.name);
}

/// The probes of money: A's master with B's customer and partner id.
async fn probe_billing(method: &str, w: &World) -> Option<Probe> {
    use partner_api::billing::v1 as bi;
    let mut funds = w.server.funds(&w.a_master);
    let b_customer = w.b_customer.customer_id.clone();
    let customer_not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "CUSTOMER_NOT_FOUND");
    let operator_only =
        |r: Result<(), Status>| Probe::Refused(r, Code::PermissionDenied, "MISSING_PERMISSION");
    let agreement_not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "AGREEMENT_NOT_FOUND");
    let quota_not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "QUOTA_NOT_FOUND");
    let order_not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "ORDER_NOT_FOUND");
    let reseller_not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "RESELLER_NOT_FOUND");
    let mut coupons = w.server.coupons(&w.a_master);
    Some(match method.strip_prefix("partner.billing.v1.")? {
        "FundsService/TopUpPartner" => operator_only(unit(
            funds
                .top_up_partner(bi::TopUpPartnerRequest {
                    request_id: new_request_id(),
                    partner_id: w.b_partner.partner_id.clone(),
                    amount: Some(cny(100)),
                    reason: String::new(),
                })
                .await,
        )),
        "FundsService/TransferToCustomer" => customer_not_found(unit(
            funds
                .transfer_to_customer(bi::TransferToCustomerRequest {
                    request_id: new_request_id(),
                    customer_id: b_customer,
                    amount: Some(cny(100)),
                    ..Default::default()
                })
                .await,
        )),
        "FundsService/ReclaimFromCustomer" => customer_not_found(unit(
            funds
                .reclaim_from_customer(bi::ReclaimFromCustomerRequest {
                    request_id: new_request_id(),
                    customer_id: b_customer,
                    amount: Some(cny(100)),
                    ..Default::default()
                })
                .await,
        )),
        "FundsService/GetBalances" => {
            // Naming B as a partner treats it as a reseller A does not have.
            assert_refused(
                funds
                    .get_balances(bi::GetBalancesRequest {
                        partner_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            );
            customer_not_found(unit(
                funds
                    .get_balances(bi::GetBalancesRequest {
                        customer_id: b_customer,
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "FundsService/ListAccountEntries" => {
            assert_refused(
                funds
                    .list_account_entries(bi::ListAccountEntriesRequest {
                        partner_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            );
            customer_not_found(unit(
                funds
                    .list_account_entries(bi::ListAccountEntriesRequest {
                        customer_id: b_customer,
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "FundsService/TransferToReseller" => Probe::Refused(
            unit(
                funds
                    .transfer_to_reseller(bi::TransferToResellerRequest {
                        request_id: new_request_id(),
                        reseller_id: w.b_partner.partner_id.clone(),
                        amount: Some(cny(100)),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "RESELLER_NOT_FOUND",
        ),
        "FundsService/ReclaimFromReseller" => Probe::Refused(
            unit(
                funds
                    .reclaim_from_reseller(bi::ReclaimFromResellerRequest {
                        request_id: new_request_id(),
                        reseller_id: w.b_partner.partner_id.clone(),
                        amount: Some(cny(100)),
                        reason: String::new(),
                    })
                    .await,
            ),
            Code::NotFound,
            "RESELLER_NOT_FOUND",
        ),
        "FundsService/SetPartnerCreditLimit" => operator_only(unit(
            funds
                .set_partner_credit_limit(bi::SetPartnerCreditLimitRequest {
                    request_id: new_request_id(),
                    partner_id: w.b_partner.partner_id.clone(),
                    credit_limit: Some(cny(100)),
                    reason: String::new(),
                })
                .await,
        )),
        "FundsService/BatchGetCustomerBalances" => {
            let got = ok(funds
                .batch_get_customer_balances(bi::BatchGetCustomerBalancesRequest {
                    customer_ids: vec![b_customer.clone()],
                    reseller_id: String::new(),
                })
                .await);
            assert_eq!(got.results[0].error_reason, "CUSTOMER_NOT_FOUND");
            assert!(got.results[0].balances.is_empty(), "{got:?}");
            Probe::Refused(
                unit(
                    funds
                        .batch_get_customer_balances(bi::BatchGetCustomerBalancesRequest {
                            customer_ids: vec![b_customer],
                            reseller_id: w.b_partner.partner_id.clone(),
                        })
                        .await,
                ),
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            )
        }
        "FundsService/GetBalanceAt" => customer_not_found(unit(
            funds
                .get_balance_at(bi::GetBalanceAtRequest {
                    customer_id: b_customer,
                    time: Some(prost_types::Timestamp {
                        seconds: 4_000_000_000,
                        nanos: 0,
                    }),
                    ..Default::default()
                })
                .await,
        )),
        "FundsService/ListAdjustRecords" => {
            let mine = ok(funds
                .list_adjust_records(bi::ListAdjustRecordsRequest {
                    customer_id: b_customer,
                    ..Default::default()
                })
                .await);
            assert!(mine.records.is_empty(), "{mine:?}");
            Probe::Refused(
                unit(
                    funds
                        .list_adjust_records(bi::ListAdjustRecordsRequest {
                            reseller_id: w.b_partner.partner_id.clone(),
                            ..Default::default()
                        })
                        .await,
                ),
                Code::NotFound,
                "RESELLER_NOT_FOUND",
            )
        }
        "PaymentAgreementService/CreatePaymentAgreement" => customer_not_found(unit(
            w.server
                .payment_agreements(&w.a_master)
                .create_payment_agreement(bi::CreatePaymentAgreementRequest {
                    request_id: new_request_id(),
                    r#type: bi::PaymentAgreementType::Customer as i32,
                    payee_id: b_customer,
                })
                .await,
        )),
        "PaymentAgreementService/AcceptPaymentAgreement" => agreement_not_found(unit(
            w.server
                .payment_agreements(&w.a_master)
                .accept_payment_agreement(bi::AcceptPaymentAgreementRequest {
                    request_id: new_request_id(),
                    id: w.b_agreement.id.clone(),
                })
                .await,
        )),
        "PaymentAgreementService/TerminatePaymentAgreement" => agreement_not_found(unit(
            w.server
                .payment_agreements(&w.a_master)
                .terminate_payment_agreement(bi::TerminatePaymentAgreementRequest {
                    request_id: new_request_id(),
                    id: w.b_agreement.id.clone(),
                    reason: String::new(),
                })
                .await,
        )),
        "PaymentAgreementService/GetPaymentAgreement" => agreement_not_found(unit(
            w.server
                .payment_agreements(&w.a_master)
                .get_payment_agreement(bi::GetPaymentAgreementRequest {
                    id: w.b_agreement.id.clone(),
                })
                .await,
        )),
        "PaymentAgreementService/ListPaymentAgreements" => {
            let listed = ok(w
                .server
                .payment_agreements(&w.a_master)
                .list_payment_agreements(bi::ListPaymentAgreementsRequest::default())
                .await);
            assert!(listed.agreements.is_empty(), "{listed:?}");
            Probe::ScopedToCaller
        }
        "CouponService/GrantCouponQuota" => operator_only(unit(
            coupons
                .grant_coupon_quota(bi::GrantCouponQuotaRequest {
                    request_id: new_request_id(),
                    partner_id: w.b_partner.partner_id.clone(),
                    r#type: bi::CouponType::Voucher as i32,
                    value: Some(cny(100)),
                    valid_until: w.b_quota.valid_until,
                    ..Default::default()
                })
                .await,
        )),
        "CouponService/SetCouponQuotaState" => operator_only(unit(
            coupons
                .set_coupon_quota_state(bi::SetCouponQuotaStateRequest {
                    request_id: new_request_id(),
                    quota_id: w.b_quota.id.clone(),
                    state: bi::CouponQuotaState::Invalid as i32,
                    reason: String::new(),
                })
                .await,
        )),
        "CouponService/GiveQuotaToReseller" => quota_not_found(unit(
            coupons
                .give_quota_to_reseller(bi::GiveQuotaToResellerRequest {
                    request_id: new_request_id(),
                    quota_id: w.b_quota.id.clone(),
                    reseller_id: w.b_partner.partner_id.clone(),
                    amount: Some(cny(100)),
                    reason: String::new(),
                })
                .await,
        )),
        "CouponService/TakeBackQuotaFromReseller" => quota_not_found(unit(
            coupons
                .take_back_quota_from_reseller(bi::TakeBackQuotaFromResellerRequest {
                    request_id: new_request_id(),
                    reseller_quota_id: w.b_quota.id.clone(),
                    amount: Some(cny(100)),
                    reason: String::new(),
                })
                .await,
        )),
        "CouponService/ListCouponQuotas" => {
            let mine = ok(coupons
                .list_coupon_quotas(bi::ListCouponQuotasRequest::default())
                .await);
            assert!(mine.quotas.is_empty(), "{mine:?}");
            assert_refused(
                coupons
                    .list_coupon_quotas(bi::ListCouponQuotasRequest {
                        partner_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
                Code::NotFound,
                "PARTNER_NOT_FOUND",
            );
            reseller_not_found(unit(
                coupons
                    .list_coupon_quotas(bi::ListCouponQuotasRequest {
                        reseller_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "CouponService/ListQuotaRecords" => {
            let mine = ok(coupons
                .list_quota_records(bi::ListQuotaRecordsRequest {
                    quota_id: w.b_quota.id.clone(),
                    ..Default::default()
                })
                .await);
            assert!(mine.records.is_empty(), "{mine:?}");
            reseller_not_found(unit(
                coupons
                    .list_quota_records(bi::ListQuotaRecordsRequest {
                        reseller_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "CouponService/IssueCoupons" => quota_not_found(unit(
            coupons
                .issue_coupons(bi::IssueCouponsRequest {
                    request_id: new_request_id(),
                    quota_id: w.b_quota.id.clone(),
                    customer_ids: vec![b_customer],
                    face_value: Some(cny(100)),
                    ..Default::default()
                })
                .await,
        )),
        "CouponService/ReclaimCoupon" => Probe::Refused(
            unit(
                coupons
                    .reclaim_coupon(bi::ReclaimCouponRequest {
                        request_id: new_request_id(),
                        coupon_id: w.b_coupon.id.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "COUPON_NOT_FOUND",
        ),
        "CouponService/ListIssuedCoupons" => {
            let mine = ok(coupons
                .list_issued_coupons(bi::ListIssuedCouponsRequest {
                    customer_id: b_customer,
                    ..Default::default()
                })
                .await);
            assert!(mine.coupons.is_empty(), "{mine:?}");
            reseller_not_found(unit(
                coupons
                    .list_issued_coupons(bi::ListIssuedCouponsRequest {
                        reseller_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "CouponService/ListCouponRecords" => {
            let mine = ok(coupons
                .list_coupon_records(bi::ListCouponRecordsRequest {
                    coupon_id: w.b_coupon.id.clone(),
                    ..Default::default()
                })
                .await);
            assert!(mine.records.is_empty(), "{mine:?}");
            reseller_not_found(unit(
                coupons
                    .list_coupon_records(bi::ListCouponRecordsRequest {
                        reseller_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "OrderService/CreateOrder" => customer_not_found(unit(
            w.server
                .orders(&w.a_master)
                .create_order(bi::CreateOrderRequest {
                    request_id: new_request_id(),
                    customer_id: b_customer,
                    lines: w
                        .b_order
                        .lines
                        .iter()
                        .filter_map(|l| l.product.clone())
                        .collect(),
                    ..Default::default()
                })
                .await,
        )),
        "OrderService/GetOrder" => order_not_found(unit(
            w.server
                .orders(&w.a_master)
                .get_order(bi::GetOrderRequest {
                    id: w.b_order.id.clone(),
                    ..Default::default()
                })
                .await,
        )),
        "OrderService/PayOrder" => order_not_found(unit(
            w.server
                .orders(&w.a_master)
                .pay_order(bi::PayOrderRequest {
                    request_id: new_request_id(),
                    id: w.b_order.id.clone(),
                    coupon_ids: vec![w.b_coupon.id.clone()],
                    ..Default::default()
                })
                .await,
        )),
        "OrderService/ListOrderDiscounts" => order_not_found(unit(
            w.server
                .orders(&w.a_master)
                .list_order_discounts(bi::ListOrderDiscountsRequest {
                    id: w.b_order.id.clone(),
                    ..Default::default()
                })
                .await,
        )),
        "OrderService/ListOrderCoupons" => order_not_found(unit(
            w.server
                .orders(&w.a_master)
                .list_order_coupons(bi::ListOrderCouponsRequest {
                    id: w.b_order.id.clone(),
                    ..Default::default()
                })
                .await,
        )),
        "OrderService/AdjustOrderPrice" => operator_only(unit(
            w.server
                .orders(&w.a_master)
                .adjust_order_price(bi::AdjustOrderPriceRequest {
                    request_id: new_request_id(),
                    id: w.b_order.id.clone(),
                    final_total: w.b_order.list_total.clone(),
                    reason: "probe".into(),
                })
                .await,
        )),
        "OrderService/CancelOrder" => order_not_found(unit(
            w.server
                .orders(&w.a_master)
                .cancel_order(bi::CancelOrderRequest {
                    request_id: new_request_id(),
                    id: w.b_order.id.clone(),
                    ..Default::default()
                })
                .await,
        )),
        "OrderService/ListOrders" => {
            let mine = ok(w
                .server
                .orders(&w.a_master)
                .list_orders(bi::ListOrdersRequest {
                    customer_id: b_customer,
                    ..Default::default()
                })
                .await);
            assert!(mine.orders.is_empty(), "{mine:?}");
            reseller_not_found(unit(
                w.server
                    .orders(&w.a_master)
                    .list_orders(bi::ListOrdersRequest {
                        reseller_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "ResourceService/GetResource" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .get_resource(bi::GetResourceRequest {
                        id: w.b_resource.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/PreviewRenewal" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .preview_renewal(bi::PreviewRenewalRequest {
                        resource_ids: vec![w.b_resource.clone()],
                        period_unit: pr::PeriodUnit::Month as i32,
                        period_count: 1,
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/PreviewChange" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .preview_change(bi::PreviewChangeRequest {
                        resource_id: w.b_resource.clone(),
                        spec: "c6.xlarge.2".into(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/ChangeResource" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .change_resource(bi::ChangeResourceRequest {
                        request_id: new_request_id(),
                        resource_id: w.b_resource.clone(),
                        spec: "c6.xlarge.2".into(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/RenewResources" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .renew_resources(bi::RenewResourcesRequest {
                        request_id: new_request_id(),
                        resource_ids: vec![w.b_resource.clone()],
                        period_unit: pr::PeriodUnit::Month as i32,
                        period_count: 1,
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/PreviewUnsubscribe" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .preview_unsubscribe(bi::PreviewUnsubscribeRequest {
                        resource_ids: vec![w.b_resource.clone()],
                        r#type: bi::UnsubscribeType::WithRenewals as i32,
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/UnsubscribeResources" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .unsubscribe_resources(bi::UnsubscribeResourcesRequest {
                        request_id: new_request_id(),
                        resource_ids: vec![w.b_resource.clone()],
                        r#type: bi::UnsubscribeType::WithRenewals as i32,
                        reason_type: bi::UnsubscribeReasonType::Other as i32,
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/ListResources" => {
            let mine = ok(w
                .server
                .resources(&w.a_master)
                .list_resources(bi::ListResourcesRequest {
                    customer_id: b_customer,
                    ..Default::default()
                })
                .await);
            assert!(mine.resources.is_empty(), "{mine:?}");
            reseller_not_found(unit(
                w.server
                    .resources(&w.a_master)
                    .list_resources(bi::ListResourcesRequest {
                        reseller_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ))
        }
        "ResourceService/SetAutoRenew" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .set_auto_renew(bi::SetAutoRenewRequest {
                        request_id: new_request_id(),
                        id: w.b_resource.clone(),
                        period_unit: pr::PeriodUnit::Month as i32,
                        period_count: 1,
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/CancelAutoRenew" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .cancel_auto_renew(bi::CancelAutoRenewRequest {
                        request_id: new_request_id(),
                        id: w.b_resource.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/SetExpiryPolicy" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .set_expiry_policy(bi::SetExpiryPolicyRequest {
                        request_id: new_request_id(),
                        id: w.b_resource.clone(),
                        policy: bi::ExpiryPolicy::Delete as i32,
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "ResourceService/SwitchToOnDemandNow" => Probe::Refused(
            unit(
                w.server
                    .resources(&w.a_master)
                    .switch_to_on_demand_now(bi::SwitchToOnDemandNowRequest {
                        request_id: new_request_id(),
                        resource_ids: vec![w.b_resource.clone()],
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "RESOURCE_NOT_FOUND",
        ),
        "SandboxService/GetClock" => Probe::NoTenantInput("the platform clock"),
        "SandboxService/AdvanceClock" => operator_only(unit(
            w.server
                .sandbox(&w.a_master)
                .advance_clock(bi::AdvanceClockRequest {
                    request_id: new_request_id(),
                    by: Some(prost_types::Duration {
                        seconds: 60,
                        nanos: 0,
                    }),
                })
                .await,
        )),
        "UsageService/ReportUsage" => operator_only(unit(
            w.server
                .usage(&w.a_master)
                .report_usage(bi::ReportUsageRequest {
                    request_id: new_request_id(),
                    records: vec![bi::UsageRecord {
                        record_id: "probe".into(),
                        customer_id: w.b_customer.customer_id.clone(),
                        ..Default::default()
                    }],
                })
                .await,
        )),
        "BillService/GetCustomerBill" => customer_not_found(unit(
            w.server
                .bills(&w.a_master)
                .get_customer_bill(bi::GetCustomerBillRequest {
                    customer_id: w.b_customer.customer_id.clone(),
                    cycle: "2026-12".into(),
                    ..Default::default()
                })
                .await,
        )),
        "BillService/GetPartnerBill" => reseller_not_found(unit(
            w.server
                .bills(&w.a_master)
                .get_partner_bill(bi::GetPartnerBillRequest {
                    cycle: "2026-12".into(),
                    reseller_id: w.b_partner.partner_id.clone(),
                })
                .await,
        )),
        "BillService/ListFeeRecords" => customer_not_found(unit(
            w.server
                .bills(&w.a_master)
                .list_fee_records(bi::ListFeeRecordsRequest {
                    customer_id: w.b_customer.customer_id.clone(),
                    cycle: "2026-12".into(),
                    ..Default::default()
                })
                .await,
        )),
        "BillService/ListUsageDetails" => customer_not_found(unit(
            w.server
                .bills(&w.a_master)
                .list_usage_details(bi::ListUsageDetailsRequest {
                    customer_id: w.b_customer.customer_id.clone(),
                    cycle: "2026-12".into(),
                    ..Default::default()
                })
                .await,
        )),
        "BillService/ExportBill" => customer_not_found(unit(
            w.server
                .bills(&w.a_master)
                .export_bill(bi::ExportBillRequest {
                    customer_id: w.b_customer.customer_id.clone(),
                    cycle: "2026-12".into(),
                    ..Default::default()
                })
                .await,
        )),
        "BillService/AdjustBill" => operator_only(unit(
            w.server
                .bills(&w.a_master)
                .adjust_bill(bi::AdjustBillRequest {
                    request_id: new_request_id(),
                    customer_id: w.b_customer.customer_id.clone(),
                    cycle: "2026-12".into(),
                    service_type: "compute".into(),
                    charge_mode: bi::ChargingMode::OnDemand as i32,
                    r#type: bi::AdjustmentType::Credit as i32,
                    amount: Some(cny(100)),
                    reason: "probe".into(),
                    ..Default::default()
                })
                .await,
        )),
        "LedgerService/CheckLedger" => operator_only(unit(
            w.server
                .ledger(&w.a_master)
                .check_ledger(bi::CheckLedgerRequest {})
                .await,
        )),
        _ => return None,
    })
}

/// The probes of rating and discounts: A's master with B's customer,
/// discount and partner id.
async fn probe_pricing(method: &str, w: &World) -> Option<Probe> {
    let d = w.server.discounts(&w.a_master);
    let b_customer = w.b_customer.customer_id.clone();
    let b_discount = w.b_discount.id.clone();
    let refused = |r: Result<(), Status>, code, reason| Probe::Refused(r, code, reason);
    let customer_not_found =
        |r: Result<(), Status>| refused(r, Code::NotFound, "CUSTOMER_NOT_FOUND");
    let discount_not_found =
        |r: Result<(), Status>| refused(r, Code::NotFound, "DISCOUNT_NOT_FOUND");
    let operator_only =
        |r: Result<(), Status>| refused(r, Code::PermissionDenied, "MISSING_PERMISSION");
    let solution_not_found =
        |r: Result<(), Status>| refused(r, Code::NotFound, "SOLUTION_NOT_FOUND");
    Some(match method.strip_prefix("partner.pricing.v1.")? {
        "RatingService/RatePeriodProducts" => customer_not_found(unit(
            w.server
                .rating(&w.a_master)
                .rate_period_products(pr::RatePeriodProductsRequest {
                    lines: vec![pr::PeriodProductLine {
                        line_id: "1".into(),
                        service_type: "compute".into(),
                        resource_type: "vm".into(),
                        spec: "c6.large.2".into(),
                        region: "cn-north-1".into(),
                        period_unit: pr::PeriodUnit::Month as i32,
                        period_count: 1,
                        quantity: 1,
                        main_line_id: String::new(),
                        ..Default::default()
                    }],
                    customer_id: b_customer,
                    auto_pay: false,
                })
                .await,
        )),
        "RatingService/RateOnDemandProducts" => customer_not_found(unit(
            w.server
                .rating(&w.a_master)
                .rate_on_demand_products(pr::RateOnDemandProductsRequest {
                    lines: vec![pr::OnDemandProductLine {
                        line_id: "1".into(),
                        service_type: "compute".into(),
                        resource_type: "vm".into(),
                        spec: "c6.large.2".into(),
                        region: "cn-north-1".into(),
                        usage_factor: "duration".into(),
                        usage_value: "1".into(),
                        usage_unit: "HOUR".into(),
                        quantity: 1,
                        ..Default::default()
                    }],
                    customer_id: b_customer,
                })
                .await,
        )),
        "RatingService/RateRenewal" => customer_not_found(unit(
            w.server
                .rating(&w.a_master)
                .rate_renewal(pr::RateRenewalRequest {
                    lines: vec![pr::RenewalLine {
                        line_id: "1".into(),
                        service_type: "compute".into(),
                        resource_type: "vm".into(),
                        spec: "c6.large.2".into(),
                        region: "cn-north-1".into(),
                        period_unit: pr::PeriodUnit::Month as i32,
                        period_count: 1,
                        quantity: 1,
                        ..Default::default()
                    }],
                    customer_id: b_customer,
                    auto_pay: false,
                })
                .await,
        )),
        "OfferLinkService/CreateOfferLink" => {
            Probe::NoTenantInput("makes a link of the caller's own partner")
        }
        "SolutionService/CreateSolution" => {
            Probe::NoTenantInput("makes a solution of the caller's own partner")
        }
        "SolutionService/GetSolution" => solution_not_found(unit(
            w.server
                .solutions(&w.a_master)
                .get_solution(pr::GetSolutionRequest {
                    id: w.other_solution.id.clone(),
                })
                .await,
        )),
        "SolutionService/UpdateSolution" => solution_not_found(unit(
            w.server
                .solutions(&w.a_master)
                .update_solution(pr::UpdateSolutionRequest {
                    request_id: new_request_id(),
                    id: w.other_solution.id.clone(),
                    name: "taken over".into(),
                    update_mask: Some(FieldMask {
                        paths: vec!["name".into()],
                    }),
                    ..Default::default()
                })
                .await,
        )),
        "SolutionService/SubmitSolution" => solution_not_found(unit(
            w.server
                .solutions(&w.a_master)
                .submit_solution(pr::SubmitSolutionRequest {
                    request_id: new_request_id(),
                    id: w.other_solution.id.clone(),
                })
                .await,
        )),
        "SolutionService/ListSolutions" => {
            let listed = ok(w
                .server
                .solutions(&w.a_master)
                .list_solutions(pr::ListSolutionsRequest::default())
                .await);
            assert!(listed.solutions.is_empty(), "{listed:?}");
            let named = w
                .server
                .solutions(&w.a_master)
                .list_solutions(pr::ListSolutionsRequest {
                    partner_id: w.other_solution.partner_id.clone(),
                    ..Default::default()
                })
                .await;
            assert_refused(named, Code::InvalidArgument, "FIELD_VIOLATION");
            Probe::ScopedToCaller
        }
        "SolutionService/AdvanceSolution" => operator_only(unit(
            w.server
                .solutions(&w.a_master)
                .advance_solution(pr::AdvanceSolutionRequest {
                    request_id: new_request_id(),
                    id: w.other_solution.id.clone(),
                    to_state: pr::SolutionState::Rejected as i32,
                    reason: "probe".into(),
                })
                .await,
        )),
        "SolutionService/SetSolutionWork" => operator_only(unit(
            w.server
                .solutions(&w.a_master)
                .set_solution_work(pr::SetSolutionWorkRequest {
                    request_id: new_request_id(),
                    id: w.other_solution.id.clone(),
                    track: pr::WorkTrack::Design as i32,
                    progress: pr::WorkProgress::Done as i32,
                })
                .await,
        )),
        "SolutionService/RegisterBaselineSolution" => operator_only(unit(
            w.server
                .solutions(&w.a_master)
                .register_baseline_solution(pr::RegisterBaselineSolutionRequest {
                    request_id: new_request_id(),
                    partner_id: w.other_solution.partner_id.clone(),
                    baseline_code: "BL-1".into(),
                    name: "probe".into(),
                    description: String::new(),
                })
                .await,
        )),
        "OfferLinkService/ResolveOfferLink" => Probe::NoTenantInput(
            "public: the link's token is what it resolves, and it names its own partner",
        ),
        "OfferLinkService/GetOfferLink" => refused(
            unit(
                w.server
                    .offer_links(&w.a_master)
                    .get_offer_link(pr::GetOfferLinkRequest {
                        id: w.other_link.id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "OFFER_LINK_NOT_FOUND",
        ),
        "OfferLinkService/DisableOfferLink" => refused(
            unit(
                w.server
                    .offer_links(&w.a_master)
                    .disable_offer_link(pr::DisableOfferLinkRequest {
                        request_id: new_request_id(),
                        id: w.other_link.id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "OFFER_LINK_NOT_FOUND",
        ),
        "OfferLinkService/ListOfferLinks" => {
            let listed = ok(w
                .server
                .offer_links(&w.a_master)
                .list_offer_links(pr::ListOfferLinksRequest::default())
                .await);
            assert!(listed.links.is_empty(), "{listed:?}");
            Probe::ScopedToCaller
        }
        "QuoteService/CreateQuote" => customer_not_found(unit(
            w.server
                .quotes(&w.a_master)
                .create_quote(pr::CreateQuoteRequest {
                    request_id: new_request_id(),
                    customer_id: b_customer,
                    lines: w.b_quote.lines.clone(),
                    ..Default::default()
                })
                .await,
        )),
        "QuoteService/GetQuote" => refused(
            unit(
                w.server
                    .quotes(&w.a_master)
                    .get_quote(pr::GetQuoteRequest {
                        id: w.b_quote.id.clone(),
                    })
                    .await,
            ),
            Code::NotFound,
            "QUOTE_NOT_FOUND",
        ),
        "QuoteService/ListQuotes" => {
            let listed = ok(w
                .server
                .quotes(&w.a_master)
                .list_quotes(pr::ListQuotesRequest {
                    customer_id: b_customer,
                    ..Default::default()
                })
                .await);
            assert!(listed.quotes.is_empty(), "{listed:?}");
            Probe::ScopedToCaller
        }
        "DiscountService/CreateDiscount" => operator_only(unit(
            d.clone()
                .create_discount(pr::CreateDiscountRequest {
                    request_id: new_request_id(),
                    kind: pr::DiscountKind::VendorContract as i32,
                    name: "stolen".into(),
                    customer_id: b_customer,
                    terms: Some(pr::create_discount_request::Terms::RateOff("1".into())),
                    ..Default::default()
                })
                .await,
        )),
        "DiscountService/SetCustomerDiscount" => customer_not_found(unit(
            d.clone()
                .set_customer_discount(pr::SetCustomerDiscountRequest {
                    request_id: new_request_id(),
                    customer_id: b_customer,
                    rate_off: "0.1".into(),
                    ..Default::default()
                })
                .await,
        )),
        "DiscountService/EndDiscount" => discount_not_found(unit(
            d.clone()
                .end_discount(pr::EndDiscountRequest {
                    request_id: new_request_id(),
                    id: b_discount,
                })
                .await,
        )),
        "DiscountService/GetDiscount" => discount_not_found(unit(
            d.clone()
                .get_discount(pr::GetDiscountRequest { id: b_discount })
                .await,
        )),
        "DiscountService/ListDiscountVersions" => discount_not_found(unit(
            d.clone()
                .list_discount_versions(pr::ListDiscountVersionsRequest { id: b_discount })
                .await,
        )),
        "DiscountService/ListDiscounts" => customer_not_found(unit(
            d.clone()
                .list_discounts(pr::ListDiscountsRequest {
                    customer_id: b_customer,
                    ..Default::default()
                })
                .await,
        )),
        "DiscountService/CreateIncentivePolicy" => operator_only(unit(
            d.clone()
                .create_incentive_policy(pr::CreateIncentivePolicyRequest {
                    request_id: new_request_id(),
                    partner_id: w.a_partner.partner_id.clone(),
                    max_rate_off: "1".into(),
                    ..Default::default()
                })
                .await,
        )),
        "DiscountService/EndIncentivePolicy" => operator_only(unit(
            d.clone()
                .end_incentive_policy(pr::EndIncentivePolicyRequest {
                    request_id: new_request_id(),
                    id: "icp_01a23d9e1972773594b69d42569f3b8f".into(),
                })
                .await,
        )),
        "DiscountService/ListIncentivePolicies" => refused(
            unit(
                d.clone()
                    .list_incentive_policies(pr::ListIncentivePoliciesRequest {
                        partner_id: w.b_partner.partner_id.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
            Code::NotFound,
            "PARTNER_NOT_FOUND",
        ),
        _ => return None,
    })
}

/// The probes of federation: A's master with B's identity provider.
async fn probe_federation(method: &str, w: &World) -> Option<Probe> {
    let f = w.server.federation(&w.a_master);
    let b = w.b_idp.id.clone();
    let not_found = |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "IDP_NOT_FOUND");
    let method = method.strip_prefix("partner.iam.v1.FederationService/")?;
    Some(match method {
        "RegisterIdentityProvider" => Probe::Refused(
            unit(
                f.clone()
                    .register_identity_provider(register_idp_request(
                        &w.b_partner,
                        "idp_metadata_next.xml",
                    ))
                    .await,
            ),
            Code::NotFound,
            "SALES_PLATFORM_NOT_FOUND",
        ),
        "GetIdentityProvider" => not_found(unit(
            f.clone()
                .get_identity_provider(iam::GetIdentityProviderRequest { id: b })
                .await,
        )),
        "ListIdentityProviders" => {
            let listed = ok(f
                .clone()
                .list_identity_providers(iam::ListIdentityProvidersRequest {})
                .await);
            assert!(
                listed
                    .identity_providers
                    .iter()
                    .all(|i| i.partner_id == w.a_partner.partner_id),
                "{listed:?}"
            );
            Probe::ScopedToCaller
        }
        "UpdateIdentityProvider" => not_found(unit(
            f.clone()
                .update_identity_provider(iam::UpdateIdentityProviderRequest {
                    request_id: new_request_id(),
                    id: b,
                    update_mask: Some(FieldMask {
                        paths: vec!["allow_unsigned_assertions".into()],
                    }),
                    allow_unsigned_assertions: true,
                    ..Default::default()
                })
                .await,
        )),
        "DeleteIdentityProvider" => not_found(unit(
            f.clone()
                .delete_identity_provider(iam::DeleteIdentityProviderRequest {
                    request_id: new_request_id(),
                    id: b,
                })
                .await,
        )),
        "ExchangeSamlResponse" => Probe::NoTenantInput(
            "the signed response is the credential; only its issuer's registered keys verify it",
        ),
        "GetServiceProviderMetadata" => {
            Probe::NoTenantInput("the platform's own public SAML metadata")
        }
        "CreateLoginUrl" => Probe::NoTenantInput(
            "starts a sign-in at the IdP of a sales-platform id; it lands only on that IdP's allow-list",
        ),
        "ExchangeLoginCode" => Probe::NoTenantInput(
            "the one-time code is the credential; it names the customer its verified response vouched for",
        ),
        _ => return None,
    })
}

/// The probes of the opportunities: A's master with B's opportunity.
async fn probe_opportunities(method: &str, w: &World) -> Option<Probe> {
    let mut o = w.server.opportunities(&w.a_master);
    let b = w.b_opportunity.opportunity_id.clone();
    let not_found =
        |r: Result<(), Status>| Probe::Refused(r, Code::NotFound, "OPPORTUNITY_NOT_FOUND");
    let operator_only =
        |r: Result<(), Status>| Probe::Refused(r, Code::PermissionDenied, "MISSING_PERMISSION");
    Some(match method.rsplit('/').next().unwrap_or_default() {
        "SubmitOpportunity" => {
            Probe::NoTenantInput("submits an opportunity of the caller's own partner")
        }
        "GetOpportunity" => not_found(unit(
            o.get_opportunity(cu::GetOpportunityRequest { opportunity_id: b })
                .await,
        )),
        "ListOpportunities" => {
            let got = ok(o
                .list_opportunities(cu::ListOpportunitiesRequest::default())
                .await);
            assert!(
                got.opportunities
                    .iter()
                    .all(|x| x.partner_id == w.a_partner.partner_id),
                "{got:?}"
            );
            Probe::ScopedToCaller
        }
        "MarkOpportunityWon" => not_found(unit(
            o.mark_opportunity_won(cu::MarkOpportunityWonRequest {
                request_id: new_request_id(),
                opportunity_id: b,
            })
            .await,
        )),
        "MarkOpportunityLost" => not_found(unit(
            o.mark_opportunity_lost(cu::MarkOpportunityLostRequest {
                request_id: new_request_id(),
                opportunity_id: b,
                reason: "intruder".into(),
            })
            .await,
        )),
        "AcceptOpportunity" => operator_only(unit(
            o.accept_opportunity(cu::AcceptOpportunityRequest {
                request_id: new_request_id(),
                opportunity_id: b,
            })
            .await,
        )),
        "RejectOpportunity" => operator_only(unit(
            o.reject_opportunity(cu::RejectOpportunityRequest {
                request_id: new_request_id(),
                opportunity_id: b,
                reason: "intruder".into(),
            })
            .await,
        )),
        "SetRoutingRule" => operator_only(unit(
            o.set_routing_rule(cu::SetRoutingRuleRequest {
                request_id: new_request_id(),
                rule: Some(cu::RoutingRule {
                    country: "CN".into(),
                    region: String::new(),
                    office: "intruder".into(),
                    update_time: None,
                }),
            })
            .await,
        )),
        "ListRoutingRules" => operator_only(unit(
            o.list_routing_rules(cu::ListRoutingRulesRequest::default())
                .await,
        )),
        _ => return None,
    })
}

/// Company details an intruder would submit.
fn intruder_company() -> cu::EnterpriseDetails {
    cu::EnterpriseDetails {
        company_name: "Intruder Ltd".into(),
        registration_number: "0000-0000".into(),
        licence_file_ref: "nowhere".into(),
    }
}

/// Forgets the answer, keeps the outcome.
fn unit<T>(r: Result<tonic::Response<T>, Status>) -> Result<(), Status> {
    r.map(|_| ())
}

#[test]
fn the_descriptor_enumeration_finds_the_known_services() {
    let rpcs = every_rpc();
    assert!(rpcs.contains(&"partner.accounts.v1.PartnerService/GetPartner".to_owned()));
    assert!(rpcs.contains(&"partner.iam.v1.AuthService/Login".to_owned()));
    assert!(rpcs.len() >= 14, "{rpcs:?}");
}
