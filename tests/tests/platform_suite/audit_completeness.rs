//! Audit completeness, generated from the access table: every RPC the table
//! calls a write is performed once, successfully, through the real server, and
//! the operator must then find an audit record of that method with that
//! request id (one per resource it changed: a sign-up creates a partner and
//! spends an invitation). A write without a scenario here fails the suite.

use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::iam::v1 as iam;
use partner_kernel::access::Effect;
use partner_tests::*;
use prost_types::FieldMask;

/// Performs `method` once, successfully, and returns its request id; `None`
/// when no scenario exists for it.
async fn perform(server: &TestServer, method: &str, n: usize) -> Option<String> {
    let admin = server.admin_token().await;
    let rid = new_request_id();
    let name = format!("audited{n}");
    match method {
        "partner.iam.v1.SigningKeyService/RotateSigningKey" => {
            ok(server
                .signing_keys(&admin)
                .rotate_signing_key(iam::RotateSigningKeyRequest {
                    request_id: rid.clone(),
                    reason: "scheduled".into(),
                })
                .await);
        }
        "partner.iam.v1.SigningKeyService/RetireSigningKey" => {
            let old = ok(server
                .signing_keys(&admin)
                .list_signing_keys(iam::ListSigningKeysRequest {})
                .await)
            .signing_keys
            .into_iter()
            .find(|k| k.state == iam::SigningKeyState::Active as i32)
            .unwrap_or_else(|| panic!("no active key"));
            ok(server
                .signing_keys(&admin)
                .rotate_signing_key(iam::RotateSigningKeyRequest {
                    request_id: new_request_id(),
                    reason: String::new(),
                })
                .await);
            ok(server
                .signing_keys(&admin)
                .retire_signing_key(iam::RetireSigningKeyRequest {
                    request_id: rid.clone(),
                    kid: old.kid,
                    reason: "compromised".into(),
                })
                .await);
        }
        "partner.accounts.v1.PartnerService/RegisterPartner" => {
            let mut req = register_request(&name);
            req.request_id = rid.clone();
            ok(server.partners(&admin).register_partner(req).await);
        }
        "partner.accounts.v1.PartnerService/UpdatePartner" => {
            let (partner, master) = server.register_partner(&admin, &name).await;
            ok(server
                .partners(&master)
                .update_partner(pb::UpdatePartnerRequest {
                    request_id: rid.clone(),
                    partner: Some(pb::Partner {
                        partner_id: partner.partner_id,
                        display_name: "Renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["display_name".into()],
                    }),
                })
                .await);
        }
        "partner.accounts.v1.PartnerService/SuspendPartner"
        | "partner.accounts.v1.PartnerService/ReinstatePartner" => {
            let (partner, _) = server.register_partner(&admin, &name).await;
            let reinstate = method.ends_with("ReinstatePartner");
            let suspend_id = if reinstate {
                new_request_id()
            } else {
                rid.clone()
            };
            ok(server
                .partners(&admin)
                .suspend_partner(pb::SuspendPartnerRequest {
                    request_id: suspend_id,
                    partner_id: partner.partner_id.clone(),
                    reason: "overdue".into(),
                })
                .await);
            if reinstate {
                ok(server
                    .partners(&admin)
                    .reinstate_partner(pb::ReinstatePartnerRequest {
                        request_id: rid.clone(),
                        partner_id: partner.partner_id,
                        reason: "paid".into(),
                    })
                    .await);
            }
        }
        "partner.accounts.v1.UserService/CreateUser" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            ok(server
                .users(&master)
                .create_user(pb::CreateUserRequest {
                    request_id: rid.clone(),
                    username: format!("{name}.sub"),
                    password: USER_PASSWORD.into(),
                    ..Default::default()
                })
                .await);
        }
        "partner.accounts.v1.UserService/DisableUser" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let (user, _) = server.create_user(&master, &format!("{name}.sub")).await;
            ok(server
                .users(&master)
                .disable_user(pb::DisableUserRequest {
                    request_id: rid.clone(),
                    user_id: user.user_id,
                    reason: "left".into(),
                })
                .await);
        }
        "partner.accounts.v1.UserService/UpdateUser" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let (user, _) = server.create_user(&master, &format!("{name}.sub")).await;
            ok(server
                .users(&master)
                .update_user(pb::UpdateUserRequest {
                    request_id: rid.clone(),
                    user: Some(pb::User {
                        user_id: user.user_id,
                        display_name: "Renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["display_name".into()],
                    }),
                })
                .await);
        }
        "partner.accounts.v1.UserService/EnableUser" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let (user, _) = server.create_user(&master, &format!("{name}.sub")).await;
            ok(server
                .users(&master)
                .disable_user(pb::DisableUserRequest {
                    request_id: new_request_id(),
                    user_id: user.user_id.clone(),
                    reason: "leave".into(),
                })
                .await);
            ok(server
                .users(&master)
                .enable_user(pb::EnableUserRequest {
                    request_id: rid.clone(),
                    user_id: user.user_id,
                    reason: "back".into(),
                })
                .await);
        }
        "partner.accounts.v1.UserService/DeleteUser" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let (user, _) = server.create_user(&master, &format!("{name}.sub")).await;
            ok(server
                .users(&master)
                .delete_user(pb::DeleteUserRequest {
                    request_id: rid.clone(),
                    user_id: user.user_id,
                    reason: "left".into(),
                })
                .await);
        }
        "partner.accounts.v1.RoleService/CreateRole"
        | "partner.accounts.v1.RoleService/UpdateRole"
        | "partner.accounts.v1.RoleService/DeleteRole" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let create_id = if method.ends_with("CreateRole") {
                rid.clone()
            } else {
                new_request_id()
            };
            let role = ok(server
                .roles(&master)
                .create_role(pb::CreateRoleRequest {
                    request_id: create_id,
                    role: Some(pb::Role {
                        display_name: "Support".into(),
                        permission_ids: vec!["users.read".into()],
                        ..Default::default()
                    }),
                })
                .await)
            .role
            .unwrap_or_default();
            if method.ends_with("UpdateRole") {
                ok(server
                    .roles(&master)
                    .update_role(pb::UpdateRoleRequest {
                        request_id: rid.clone(),
                        role: Some(pb::Role {
                            role_id: role.role_id,
                            description: "Answers tickets".into(),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["description".into()],
                        }),
                    })
                    .await);
            } else if method.ends_with("DeleteRole") {
                ok(server
                    .roles(&master)
                    .delete_role(pb::DeleteRoleRequest {
                        request_id: rid.clone(),
                        role_id: role.role_id,
                        force: false,
                    })
                    .await);
            }
        }
        "partner.accounts.v1.RoleService/AssignRole"
        | "partner.accounts.v1.RoleService/UnassignRole" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let (user, _) = server.create_user(&master, &format!("{name}.sub")).await;
            let unassign = method.ends_with("UnassignRole");
            ok(server
                .roles(&master)
                .assign_role(pb::AssignRoleRequest {
                    request_id: if unassign {
                        new_request_id()
                    } else {
                        rid.clone()
                    },
                    role_id: "SALES".into(),
                    user_id: user.user_id.clone(),
                })
                .await);
            if unassign {
                ok(server
                    .roles(&master)
                    .unassign_role(pb::UnassignRoleRequest {
                        request_id: rid.clone(),
                        role_id: "SALES".into(),
                        user_id: user.user_id,
                    })
                    .await);
            }
        }
        "partner.accounts.v1.ProgramService/CreateInvitation" => {
            ok(server
                .programs(&admin)
                .create_invitation(pb::CreateInvitationRequest {
                    request_id: rid.clone(),
                    email: format!("{name}@partners.example"),
                    program: pb::Program::SoftwarePartner as i32,
                    ..Default::default()
                })
                .await);
        }
        "partner.accounts.v1.ProgramService/RevokeInvitation" => {
            let (invitation, _) = server
                .invite(&admin, pb::Program::SoftwarePartner, "")
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            ok(server
                .programs(&admin)
                .revoke_invitation(pb::RevokeInvitationRequest {
                    request_id: rid.clone(),
                    invitation_id: invitation.invitation_id,
                    reason: "sent by mistake".into(),
                })
                .await);
        }
        "partner.accounts.v1.ProgramService/AcceptInvitation" => {
            let (partner, master) = server.register_partner(&admin, &name).await;
            let (_, token) = server
                .invite(&admin, pb::Program::SolutionProvider, &partner.partner_id)
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            let mut req = accept_request(&token);
            req.request_id = rid.clone();
            ok(server.programs(&master).accept_invitation(req).await);
        }
        "partner.accounts.v1.ProgramService/SignUpWithInvitation" => {
            let (_, token) = server
                .invite(&admin, pb::Program::SolutionProvider, "")
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            ok(server
                .programs_public()
                .sign_up_with_invitation(pb::SignUpWithInvitationRequest {
                    request_id: rid.clone(),
                    token,
                    business_info: Some(business_info()),
                    agreement_accepted: true,
                    master_username: name.clone(),
                    master_password: USER_PASSWORD.into(),
                    contact_email: format!("{name}@partners.example"),
                })
                .await);
        }
        "partner.accounts.v1.ResellerService/SuspendReseller"
        | "partner.accounts.v1.ResellerService/RestoreReseller" => {
            let (_, distributor) = server
                .enrolled_partner(&admin, &name, pb::Program::Distributor)
                .await;
            let (reseller, _) = server
                .linked_reseller(&admin, &distributor, &format!("{name}.r"))
                .await;
            let restore = method.ends_with("RestoreReseller");
            ok(server
                .resellers(&distributor)
                .suspend_reseller(pb::SuspendResellerRequest {
                    request_id: if restore {
                        new_request_id()
                    } else {
                        rid.clone()
                    },
                    reseller_id: reseller.partner_id.clone(),
                    reason: "overdue settlement".into(),
                })
                .await);
            if restore {
                ok(server
                    .resellers(&distributor)
                    .restore_reseller(pb::RestoreResellerRequest {
                        request_id: rid.clone(),
                        reseller_id: reseller.partner_id,
                        reason: "settled".into(),
                    })
                    .await);
            }
        }
        "partner.iam.v1.AccessKeyService/CreateAccessKey"
        | "partner.iam.v1.AccessKeyService/DisableAccessKey"
        | "partner.iam.v1.AccessKeyService/DeleteAccessKey" => {
            let (_, master) = server.register_partner(&admin, &name).await;
            let create = method.ends_with("CreateAccessKey");
            let key = ok(server
                .access_keys(&master)
                .create_access_key(iam::CreateAccessKeyRequest {
                    request_id: if create {
                        rid.clone()
                    } else {
                        new_request_id()
                    },
                    description: "sync".into(),
                    ..Default::default()
                })
                .await)
            .access_key
            .unwrap_or_default();
            if method.ends_with("DisableAccessKey") {
                ok(server
                    .access_keys(&master)
                    .disable_access_key(iam::DisableAccessKeyRequest {
                        request_id: rid.clone(),
                        access_key_id: key.access_key_id,
                        reason: "rotated".into(),
                    })
                    .await);
            } else if method.ends_with("DeleteAccessKey") {
                ok(server
                    .access_keys(&master)
                    .delete_access_key(iam::DeleteAccessKeyRequest {
                        request_id: rid.clone(),
                        access_key_id: key.access_key_id,
                        reason: "retired".into(),
                    })
                    .await);
            }
        }
        "partner.iam.v1.FederationService/RegisterIdentityProvider" => {
            let (partner, master) = server.register_partner(&admin, &name).await;
            ok(server
                .federation(&master)
                .register_identity_provider(iam::RegisterIdentityProviderRequest {
                    request_id: rid.clone(),
                    ..register_idp_request(&partner, "idp_metadata.xml")
                })
                .await);
        }
        "partner.iam.v1.FederationService/UpdateIdentityProvider"
        | "partner.iam.v1.FederationService/DeleteIdentityProvider" => {
            let (partner, master) = server.register_partner(&admin, &name).await;
            // Entity ids are registered once: the first scenario's IdP is gone by now.
            let idp = ok(server
                .federation(&master)
                .register_identity_provider(iam::RegisterIdentityProviderRequest {
                    metadata_xml: saml_fixture("idp_metadata.xml").replace(
                        "https://sales.example-partner.com/idp\"",
                        &format!("https://{name}.example/idp\""),
                    ),
                    ..register_idp_request(&partner, "idp_metadata.xml")
                })
                .await)
            .identity_provider
            .unwrap_or_default();
            if method.ends_with("UpdateIdentityProvider") {
                ok(server
                    .federation(&master)
                    .update_identity_provider(iam::UpdateIdentityProviderRequest {
                        request_id: rid.clone(),
                        id: idp.id,
                        update_mask: Some(prost_types::FieldMask {
                            paths: vec!["allow_unsigned_assertions".into()],
                        }),
                        allow_unsigned_assertions: true,
                        ..Default::default()
                    })
                    .await);
            } else {
                ok(server
                    .federation(&master)
                    .delete_identity_provider(iam::DeleteIdentityProviderRequest {
                        request_id: rid.clone(),
                        id: idp.id,
                    })
                    .await);
            }
        }
        m if m.starts_with("partner.events.v1.WebhookService/") => {
            webhook_scenario(server, m, &name, &rid).await;
        }
        m if m.starts_with("partner.billing.v1.PaymentAgreementService/") => {
            agreement_scenario(server, m, &name, &rid).await;
        }
        m if m.starts_with("partner.billing.v1.OrderService/")
            || m == "partner.billing.v1.ResourceService/RenewResources"
            || m == "partner.billing.v1.ResourceService/ChangeResource"
            || m == "partner.billing.v1.ResourceService/UnsubscribeResources"
            || m == "partner.billing.v1.ResourceService/SetAutoRenew"
            || m == "partner.billing.v1.ResourceService/CancelAutoRenew"
            || m == "partner.billing.v1.ResourceService/SetExpiryPolicy"
            || m == "partner.billing.v1.ResourceService/SwitchToOnDemandNow"
            || m == "partner.billing.v1.BillService/AdjustBill" =>
        {
            order_scenario(server, m, &name, &rid).await;
        }
        m if m.starts_with("partner.billing.v1.CouponService/") => {
            coupon_scenario(server, m, &name, &rid).await;
        }
        "partner.billing.v1.SandboxService/AdvanceClock" => {
            let admin = server.admin_token().await;
            ok(server
                .sandbox(&admin)
                .advance_clock(partner_api::billing::v1::AdvanceClockRequest {
                    request_id: rid.clone(),
                    by: Some(prost_types::Duration {
                        seconds: 60,
                        nanos: 0,
                    }),
                })
                .await);
        }
        m if m.starts_with("partner.billing.v1.FundsService/") => {
            funds_scenario(server, m, &name, &rid).await;
        }
        "partner.billing.v1.UsageService/ReportUsage" => {
            usage_scenario(server, &name, &rid).await;
        }
        m if m.starts_with("partner.pricing.v1.SolutionService/") => {
            solution_scenario(server, m, &name, &rid).await;
        }
        m if m.starts_with("partner.pricing.v1.") => {
            discount_scenario(server, m, &name, &rid).await;
        }
        _ => return perform_customers(server, method, &name, rid).await,
    }
    Some(rid)
}

/// Performs one solution write with `rid`, on a new software partner's
/// solution taken as far through its lifecycle as the write needs.
/// Proposes a payment agreement to a customer, which accepts it and ends
/// it, so that `method` is the call made with `rid`.
async fn agreement_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::billing::v1 as bi;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let customer = server
        .customer_with_password(&master, &partner, "paid-for")
        .await;
    let me = server.customer_token(&customer.account_name).await;
    let key = |verb: &str| {
        if method.ends_with(verb) {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    let id = ok(server
        .payment_agreements(&master)
        .create_payment_agreement(bi::CreatePaymentAgreementRequest {
            request_id: key("/CreatePaymentAgreement"),
            r#type: bi::PaymentAgreementType::Customer as i32,
            payee_id: customer.customer_id,
        })
        .await)
    .agreement
    .unwrap_or_default()
    .id;
    ok(server
        .payment_agreements(&me)
        .accept_payment_agreement(bi::AcceptPaymentAgreementRequest {
            request_id: key("/AcceptPaymentAgreement"),
            id: id.clone(),
        })
        .await);
    ok(server
        .payment_agreements(&master)
        .terminate_payment_agreement(bi::TerminatePaymentAgreementRequest {
            request_id: key("/TerminatePaymentAgreement"),
            id,
            reason: "ended".into(),
        })
        .await);
}

/// Creates an order for a customer and cancels it, then pays a second one
/// from the customer's cash, so that `method` is the call made with `rid`.
async fn order_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::billing::v1 as bi;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let customer = server
        .create_customer(&master, &partner, &format!("{name}-buyer"))
        .await;
    let key = |verb: &str| {
        if method.ends_with(verb) {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    let create = |request_id: String| bi::CreateOrderRequest {
        request_id,
        customer_id: customer.customer_id.clone(),
        lines: vec![partner_api::pricing::v1::PeriodProductLine {
            line_id: "vm".into(),
            service_type: "compute".into(),
            resource_type: "vm".into(),
            spec: "c6.large.2".into(),
            region: "cn-north-1".into(),
            period_unit: partner_api::pricing::v1::PeriodUnit::Month as i32,
            period_count: 1,
            quantity: 1,
            main_line_id: String::new(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let order = ok(server
        .orders(&master)
        .create_order(create(key("/CreateOrder")))
        .await)
    .order
    .unwrap_or_default();
    ok(server
        .orders(&master)
        .cancel_order(bi::CancelOrderRequest {
            request_id: key("/CancelOrder"),
            id: order.id,
            reason: "not needed".into(),
            ..Default::default()
        })
        .await);
    // A second order, paid from the customer's cash.
    server.top_up(&admin, &partner.partner_id, 100_000).await;
    ok(server
        .funds(&master)
        .transfer_to_customer(bi::TransferToCustomerRequest {
            request_id: new_request_id(),
            customer_id: customer.customer_id.clone(),
            amount: Some(cny(100_000)),
            ..Default::default()
        })
        .await);
    let second = ok(server
        .orders(&master)
        .create_order(create(new_request_id()))
        .await)
    .order
    .unwrap_or_default();
    // The operator adjusts its price before it is paid.
    let mut lower = second.list_total.clone().unwrap_or_default();
    lower.units /= 2;
    ok(server
        .orders(&admin)
        .adjust_order_price(bi::AdjustOrderPriceRequest {
            request_id: key("/AdjustOrderPrice"),
            id: second.id.clone(),
            final_total: Some(lower),
            reason: "negotiated".into(),
        })
        .await);
    let paid = ok(server
        .orders(&master)
        .pay_order(bi::PayOrderRequest {
            request_id: key("/PayOrder"),
            id: second.id,
            ..Default::default()
        })
        .await)
    .order
    .unwrap_or_default();
    // Its resource renewed for a month, then unsubscribed.
    let resources = paid
        .lines
        .first()
        .map(|l| l.resource_ids.clone())
        .unwrap_or_default();
    ok(server
        .resources(&master)
        .renew_resources(bi::RenewResourcesRequest {
            request_id: key("/RenewResources"),
            resource_ids: resources.clone(),
            period_unit: partner_api::pricing::v1::PeriodUnit::Month as i32,
            period_count: 1,
            ..Default::default()
        })
        .await);
    let one = resources.first().cloned().unwrap_or_default();
    // Changed to a larger flavour (left waiting for payment).
    ok(server
        .resources(&master)
        .change_resource(bi::ChangeResourceRequest {
            request_id: key("/ChangeResource"),
            resource_id: one.clone(),
            spec: "c6.xlarge.2".into(),
            ..Default::default()
        })
        .await);
    ok(server
        .resources(&master)
        .set_auto_renew(bi::SetAutoRenewRequest {
            request_id: key("/SetAutoRenew"),
            id: one.clone(),
            period_unit: partner_api::pricing::v1::PeriodUnit::Month as i32,
            period_count: 1,
            ..Default::default()
        })
        .await);
    ok(server
        .resources(&master)
        .cancel_auto_renew(bi::CancelAutoRenewRequest {
            request_id: key("/CancelAutoRenew"),
            id: one,
            ..Default::default()
        })
        .await);
    ok(server
        .resources(&master)
        .set_expiry_policy(bi::SetExpiryPolicyRequest {
            request_id: key("/SetExpiryPolicy"),
            id: resources.first().cloned().unwrap_or_default(),
            policy: bi::ExpiryPolicy::Freeze as i32,
            ..Default::default()
        })
        .await);
    // The operator charges a correction of last month's bill (a cycle that
    // has begun, whatever the day).
    let last_month = (chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::days(31))
        .format("%Y-%m")
        .to_string();
    ok(server
        .bills(&admin)
        .adjust_bill(bi::AdjustBillRequest {
            request_id: key("/AdjustBill"),
            customer_id: customer.customer_id.clone(),
            cycle: last_month,
            resource_id: resources.first().cloned().unwrap_or_default(),
            r#type: bi::AdjustmentType::Charge as i32,
            amount: Some(cny(100)),
            reason: "metering correction".into(),
            ..Default::default()
        })
        .await);
    if method.ends_with("/SwitchToOnDemandNow") {
        ok(server
            .resources(&master)
            .switch_to_on_demand_now(bi::SwitchToOnDemandNowRequest {
                request_id: rid.to_owned(),
                resource_ids: resources,
                ..Default::default()
            })
            .await);
        return;
    }
    ok(server
        .resources(&master)
        .unsubscribe_resources(bi::UnsubscribeResourcesRequest {
            request_id: key("/UnsubscribeResources"),
            resource_ids: resources,
            r#type: bi::UnsubscribeType::WithRenewals as i32,
            reason_type: bi::UnsubscribeReasonType::Other as i32,
            reason: "not needed".into(),
            ..Default::default()
        })
        .await);
}

/// Grants a distributor a coupon quota, gives part of it to a reseller and
/// takes some back, issues a coupon to a customer and reclaims it, and ends
/// the quota, so that `method` is the call made with `rid`.
async fn coupon_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::billing::v1 as bi;
    let admin = server.admin_token().await;
    let (distributor, master) = server
        .enrolled_partner(&admin, name, pb::Program::Distributor)
        .await;
    let (reseller, _) = server
        .linked_reseller(&admin, &master, &format!("{name}.r"))
        .await;
    let customer = server
        .create_customer(&master, &distributor, &format!("{name}-holder"))
        .await;
    let key = |verb: &str| {
        if method.ends_with(verb) {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    let quota = ok(server
        .coupons(&admin)
        .grant_coupon_quota(bi::GrantCouponQuotaRequest {
            request_id: key("/GrantCouponQuota"),
            partner_id: distributor.partner_id.clone(),
            r#type: bi::CouponType::CashCoupon as i32,
            value: Some(cny(10_000)),
            valid_until: Some(prost_types::Timestamp {
                seconds: 4_000_000_000,
                nanos: 0,
            }),
            reason: "campaign".into(),
            ..Default::default()
        })
        .await)
    .quota
    .unwrap_or_default();
    let given = ok(server
        .coupons(&master)
        .give_quota_to_reseller(bi::GiveQuotaToResellerRequest {
            request_id: key("/GiveQuotaToReseller"),
            quota_id: quota.id.clone(),
            reseller_id: reseller.partner_id.clone(),
            amount: Some(cny(2_000)),
            reason: "for the reseller".into(),
        })
        .await)
    .reseller_quota
    .unwrap_or_default();
    ok(server
        .coupons(&master)
        .take_back_quota_from_reseller(bi::TakeBackQuotaFromResellerRequest {
            request_id: key("/TakeBackQuotaFromReseller"),
            reseller_quota_id: given.id,
            amount: Some(cny(1_000)),
            reason: "unused".into(),
        })
        .await);
    let coupon = ok(server
        .coupons(&master)
        .issue_coupons(bi::IssueCouponsRequest {
            request_id: key("/IssueCoupons"),
            quota_id: quota.id.clone(),
            customer_ids: vec![customer.customer_id],
            face_value: Some(cny(500)),
            ..Default::default()
        })
        .await)
    .results
    .into_iter()
    .next()
    .and_then(|r| r.coupon)
    .unwrap_or_default();
    ok(server
        .coupons(&master)
        .reclaim_coupon(bi::ReclaimCouponRequest {
            request_id: key("/ReclaimCoupon"),
            coupon_id: coupon.id,
            reason: "by mistake".into(),
            ..Default::default()
        })
        .await);
    ok(server
        .coupons(&admin)
        .set_coupon_quota_state(bi::SetCouponQuotaStateRequest {
            request_id: key("/SetCouponQuotaState"),
            quota_id: quota.id,
            state: bi::CouponQuotaState::Invalid as i32,
            reason: "campaign over".into(),
        })
        .await);
}

/// Tops a partner up and moves money to and from its customer, so that
/// `method` is the call made with `rid`.
/// An hour of a VM, used until now (in the open billing cycle, whatever
/// the day).
async fn usage_scenario(server: &TestServer, name: &str, rid: &str) {
    use partner_api::billing::v1 as bi;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let customer = server
        .create_customer(&master, &partner, &format!("{name}-user"))
        .await;
    let now = chrono::Utc::now();
    let answer = ok(server
        .usage(&admin)
        .report_usage(bi::ReportUsageRequest {
            request_id: rid.to_owned(),
            records: vec![bi::UsageRecord {
                record_id: format!("{name}-vm"),
                customer_id: customer.customer_id,
                service_type: "compute".into(),
                resource_type: "vm".into(),
                spec: "c6.large.2".into(),
                region: "cn-north-1".into(),
                usage_factor: "duration".into(),
                usage_value: "1".into(),
                usage_unit: "HOUR".into(),
                start_time: Some(partner_kernel::clock::to_proto_timestamp(
                    now - chrono::Duration::hours(1),
                )),
                end_time: Some(partner_kernel::clock::to_proto_timestamp(now)),
                ..Default::default()
            }],
        })
        .await);
    assert_eq!(answer.accepted, 1, "{answer:?}");
}

async fn funds_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::billing::v1 as bi;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let key = |verb: &str| {
        if method.ends_with(verb) {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    ok(server
        .funds(&admin)
        .top_up_partner(bi::TopUpPartnerRequest {
            request_id: key("/TopUpPartner"),
            partner_id: partner.partner_id.clone(),
            amount: Some(cny(10_000)),
            reason: "bank transfer 42".into(),
        })
        .await);
    if method.ends_with("Reseller") {
        let (distributor, d_master) = server
            .enrolled_partner(&admin, &format!("{name}.d"), pb::Program::Distributor)
            .await;
        let (reseller, _) = server
            .linked_reseller(&admin, &d_master, &format!("{name}.r"))
            .await;
        server.top_up(&admin, &distributor.partner_id, 10_000).await;
        ok(server
            .funds(&d_master)
            .transfer_to_reseller(bi::TransferToResellerRequest {
                request_id: key("/TransferToReseller"),
                reseller_id: reseller.partner_id.clone(),
                amount: Some(cny(5_000)),
                reason: String::new(),
            })
            .await);
        ok(server
            .funds(&d_master)
            .reclaim_from_reseller(bi::ReclaimFromResellerRequest {
                request_id: key("/ReclaimFromReseller"),
                reseller_id: reseller.partner_id,
                amount: Some(cny(1_000)),
                reason: String::new(),
            })
            .await);
        return;
    }
    if method.ends_with("/SetPartnerCreditLimit") {
        ok(server
            .funds(&admin)
            .set_partner_credit_limit(bi::SetPartnerCreditLimitRequest {
                request_id: rid.to_owned(),
                partner_id: partner.partner_id,
                credit_limit: Some(cny(50_000)),
                reason: "annual review".into(),
            })
            .await);
        return;
    }
    let customer = server.create_customer(&master, &partner, "funded").await;
    ok(server
        .funds(&master)
        .transfer_to_customer(bi::TransferToCustomerRequest {
            request_id: key("/TransferToCustomer"),
            customer_id: customer.customer_id.clone(),
            amount: Some(cny(5_000)),
            ..Default::default()
        })
        .await);
    ok(server
        .funds(&master)
        .reclaim_from_customer(bi::ReclaimFromCustomerRequest {
            request_id: key("/ReclaimFromCustomer"),
            customer_id: customer.customer_id,
            amount: Some(cny(1_000)),
            ..Default::default()
        })
        .await);
}

async fn solution_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::pricing::v1 as pr;
    let admin = server.admin_token().await;
    let (partner, master) = server
        .enrolled_partner(&admin, name, pb::Program::SoftwarePartner)
        .await;
    let mut mine = server.solutions(&master);
    let mut operator = server.solutions(&admin);
    let verb = method.rsplit('/').next().unwrap_or_default();
    if verb == "RegisterBaselineSolution" {
        ok(operator
            .register_baseline_solution(pr::RegisterBaselineSolutionRequest {
                request_id: rid.to_owned(),
                partner_id: partner.partner_id,
                baseline_code: "BL-1".into(),
                name: "audited baseline".into(),
                description: String::new(),
            })
            .await);
        return;
    }
    let create = |request_id: String| pr::CreateSolutionRequest {
        request_id,
        name: "audited".into(),
        description: String::new(),
    };
    if verb == "CreateSolution" {
        ok(mine.create_solution(create(rid.to_owned())).await);
        return;
    }
    let id = ok(mine.create_solution(create(new_request_id())).await)
        .solution
        .unwrap_or_default()
        .id;
    if verb == "UpdateSolution" {
        ok(mine
            .update_solution(pr::UpdateSolutionRequest {
                request_id: rid.to_owned(),
                id,
                name: "renamed".into(),
                update_mask: Some(FieldMask {
                    paths: vec!["name".into()],
                }),
                ..Default::default()
            })
            .await);
        return;
    }
    let submit = pr::SubmitSolutionRequest {
        request_id: if verb == "SubmitSolution" {
            rid.to_owned()
        } else {
            new_request_id()
        },
        id: id.clone(),
    };
    ok(mine.submit_solution(submit).await);
    let advance = |request_id: String, to: pr::SolutionState| pr::AdvanceSolutionRequest {
        request_id,
        id: id.clone(),
        to_state: to as i32,
        reason: String::new(),
    };
    match verb {
        "SubmitSolution" => {}
        "AdvanceSolution" => {
            ok(operator
                .advance_solution(advance(rid.to_owned(), pr::SolutionState::Approved))
                .await);
        }
        "SetSolutionWork" => {
            for to in [
                pr::SolutionState::Approved,
                pr::SolutionState::Verified,
                pr::SolutionState::Designing,
            ] {
                ok(operator
                    .advance_solution(advance(new_request_id(), to))
                    .await);
            }
            ok(operator
                .set_solution_work(pr::SetSolutionWorkRequest {
                    request_id: rid.to_owned(),
                    id: id.clone(),
                    track: pr::WorkTrack::Design as i32,
                    progress: pr::WorkProgress::Done as i32,
                })
                .await);
        }
        other => panic!("no solution scenario for {other}"),
    }
}

/// Performs one webhook write with `rid` on a new partner's endpoint.
async fn webhook_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::events::v1 as ev;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, name).await;
    let create = |request_id: String| ev::CreateWebhookEndpointRequest {
        request_id,
        url: "https://hooks.example.com/audited".into(),
        ..Default::default()
    };
    if method.ends_with("/CreateWebhookEndpoint") {
        ok(server
            .webhooks(&master)
            .create_webhook_endpoint(create(rid.to_owned()))
            .await);
        return;
    }
    let endpoint = ok(server
        .webhooks(&master)
        .create_webhook_endpoint(create(new_request_id()))
        .await)
    .endpoint
    .unwrap_or_default();
    let mut hooks = server.webhooks(&master);
    let request_id = rid.to_owned();
    match method.rsplit('/').next().unwrap_or_default() {
        "UpdateWebhookEndpoint" => {
            ok(hooks
                .update_webhook_endpoint(ev::UpdateWebhookEndpointRequest {
                    request_id,
                    id: endpoint.id,
                    disabled: true,
                    update_mask: Some(FieldMask {
                        paths: vec!["disabled".into()],
                    }),
                    ..Default::default()
                })
                .await);
        }
        "RotateWebhookSecret" => {
            ok(hooks
                .rotate_webhook_secret(ev::RotateWebhookSecretRequest {
                    request_id,
                    id: endpoint.id,
                    previous_secret_ttl: None,
                })
                .await);
        }
        "DeleteWebhookEndpoint" => {
            ok(hooks
                .delete_webhook_endpoint(ev::DeleteWebhookEndpointRequest {
                    request_id,
                    id: endpoint.id,
                })
                .await);
        }
        "SendTestEvent" => {
            ok(hooks
                .send_test_event(ev::SendTestEventRequest {
                    request_id,
                    endpoint_id: endpoint.id,
                })
                .await);
        }
        "RedeliverEvent" => {
            // Every endpoint created with no types receives partner.* events.
            let event = loop {
                let events = ok(server
                    .events(&master)
                    .list_events(ev::ListEventsRequest::default())
                    .await)
                .events;
                if let Some(e) = events.into_iter().next() {
                    break e;
                }
                tokio::task::yield_now().await;
            };
            ok(hooks
                .redeliver_event(ev::RedeliverEventRequest {
                    request_id,
                    endpoint_id: endpoint.id,
                    event_id: event.event_id,
                })
                .await);
        }
        other => panic!("no webhook scenario for {other}"),
    }
}

/// Performs one pricing write (catalog import, discount, quote) with `rid`,
/// for a new partner and customer.
async fn discount_scenario(server: &TestServer, method: &str, name: &str, rid: &str) {
    use partner_api::pricing::v1 as pr;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, name).await;
    let customer = server
        .create_customer(&master, &partner, "discounted")
        .await
        .customer_id;
    let policy = |request_id: String| pr::CreateIncentivePolicyRequest {
        request_id,
        partner_id: partner.partner_id.clone(),
        max_rate_off: "0.2".into(),
        ..Default::default()
    };
    let set = |request_id: String| pr::SetCustomerDiscountRequest {
        request_id,
        customer_id: customer.clone(),
        rate_off: "0.1".into(),
        ..Default::default()
    };
    let mut operator = server.discounts(&admin);
    let mut partner_side = server.discounts(&master);
    match method.rsplit('/').next().unwrap_or_default() {
        "ImportCatalog" => {
            let demo: partner_pricing::catalog::document::Document =
                serde_json::from_str(partner_pricing::catalog::DEMO)
                    .unwrap_or_else(|e| panic!("{e}"));
            ok(server
                .catalog(&admin)
                .import_catalog(pr::ImportCatalogRequest {
                    request_id: rid.to_owned(),
                    format: pr::CatalogFormat::Csv as i32,
                    content: partner_pricing::catalog::csv::write(&demo),
                    effective_time: None,
                })
                .await);
        }
        "CreateOfferLink" | "DisableOfferLink" => {
            let (_, provider) = server
                .enrolled_partner(&admin, &format!("{name}.sp"), pb::Program::SolutionProvider)
                .await;
            let mut links = server.offer_links(&provider);
            let create = |request_id: String| pr::CreateOfferLinkRequest {
                request_id,
                name: "audited".into(),
                product: Some(pr::OfferProduct {
                    service_type: "compute".into(),
                    resource_type: "vm".into(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            if method.ends_with("/CreateOfferLink") {
                ok(links.create_offer_link(create(rid.to_owned())).await);
            } else {
                let link = ok(links.create_offer_link(create(new_request_id())).await)
                    .link
                    .unwrap_or_default();
                ok(links
                    .disable_offer_link(pr::DisableOfferLinkRequest {
                        request_id: rid.to_owned(),
                        id: link.id,
                    })
                    .await);
            }
        }
        "CreateQuote" => {
            ok(server
                .quotes(&master)
                .create_quote(pr::CreateQuoteRequest {
                    request_id: rid.to_owned(),
                    customer_id: customer.clone(),
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
                .await);
        }
        "CreateIncentivePolicy" => {
            ok(operator
                .create_incentive_policy(policy(rid.to_owned()))
                .await);
        }
        "EndIncentivePolicy" => {
            let made = ok(operator
                .create_incentive_policy(policy(new_request_id()))
                .await);
            ok(operator
                .end_incentive_policy(pr::EndIncentivePolicyRequest {
                    request_id: rid.to_owned(),
                    id: made.policy.unwrap_or_default().id,
                })
                .await);
        }
        "CreateDiscount" => {
            ok(operator
                .create_discount(pr::CreateDiscountRequest {
                    request_id: rid.to_owned(),
                    kind: pr::DiscountKind::VendorContract as i32,
                    name: "contract".into(),
                    customer_id: customer.clone(),
                    terms: Some(pr::create_discount_request::Terms::RateOff("0.1".into())),
                    ..Default::default()
                })
                .await);
        }
        "SetCustomerDiscount" => {
            ok(operator
                .create_incentive_policy(policy(new_request_id()))
                .await);
            ok(partner_side
                .set_customer_discount(set(rid.to_owned()))
                .await);
        }
        "EndDiscount" => {
            ok(operator
                .create_incentive_policy(policy(new_request_id()))
                .await);
            let made = ok(partner_side
                .set_customer_discount(set(new_request_id()))
                .await);
            ok(partner_side
                .end_discount(pr::EndDiscountRequest {
                    request_id: rid.to_owned(),
                    id: made.discount.unwrap_or_default().id,
                })
                .await);
        }
        other => panic!("no discount scenario for {other}"),
    }
}

/// The scenarios of the customers domain (and sales-platform ids).
async fn perform_customers(
    server: &TestServer,
    method: &str,
    name: &str,
    rid: String,
) -> Option<String> {
    let admin = server.admin_token().await;
    match method {
        "partner.accounts.v1.PartnerService/IssueSalesPlatformId" => {
            let (partner, _) = server.register_partner(&admin, name).await;
            ok(server
                .partners(&admin)
                .issue_sales_platform_id(pb::IssueSalesPlatformIdRequest {
                    request_id: rid.clone(),
                    partner_id: partner.partner_id,
                    sales_platform_id: String::new(),
                })
                .await);
        }
        "partner.customers.v1.CustomerService/CreateCustomer" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let mut req = create_customer_request(&partner, "crm-1");
            req.request_id = rid.clone();
            ok(server.customers(&master).create_customer(req).await);
        }
        "partner.customers.v1.CustomerService/UpdateCustomer" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let customer = server.create_customer(&master, &partner, "crm-1").await;
            ok(server
                .customers(&master)
                .update_customer(cu::UpdateCustomerRequest {
                    request_id: rid.clone(),
                    customer: Some(cu::Customer {
                        customer_id: customer.customer_id,
                        labels: vec!["vip".into()],
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["labels".into()],
                    }),
                    reseller_id: String::new(),
                })
                .await);
        }
        "partner.customers.v1.CustomerService/CreateAssociationInvite" => {
            let (_, master) = server.register_partner(&admin, name).await;
            ok(server
                .customers(&master)
                .create_association_invite(cu::CreateAssociationInviteRequest {
                    request_id: rid.clone(),
                    ..Default::default()
                })
                .await);
        }
        "partner.customers.v1.CustomerService/RevokeAssociationInvite" => {
            let (_, master) = server.register_partner(&admin, name).await;
            let invite = ok(server
                .customers(&master)
                .create_association_invite(cu::CreateAssociationInviteRequest {
                    request_id: new_request_id(),
                    ..Default::default()
                })
                .await)
            .invite
            .unwrap_or_default();
            ok(server
                .customers(&master)
                .revoke_association_invite(cu::RevokeAssociationInviteRequest {
                    request_id: rid.clone(),
                    invite_id: invite.invite_id,
                })
                .await);
        }
        "partner.customers.v1.CustomerService/AcceptAssociationInvite" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let (_, other) = server.register_partner(&admin, &format!("{name}b")).await;
            let (_, own) = server.free_customer(&master, &partner, "crm-1").await;
            let token = ok(server
                .customers(&other)
                .create_association_invite(cu::CreateAssociationInviteRequest {
                    request_id: new_request_id(),
                    ..Default::default()
                })
                .await)
            .token;
            ok(server
                .customers(&own)
                .accept_association_invite(cu::AcceptAssociationInviteRequest {
                    request_id: rid.clone(),
                    token,
                })
                .await);
        }
        "partner.customers.v1.CustomerService/SignUpWithAssociationInvite" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let token = ok(server
                .customers(&master)
                .create_association_invite(cu::CreateAssociationInviteRequest {
                    request_id: new_request_id(),
                    xaccount_type: partner.sales_platform_ids[0].clone(),
                    xaccount_id: "crm-1".into(),
                    ..Default::default()
                })
                .await)
            .token;
            ok(
                partner_api::customers::v1::customer_service_client::CustomerServiceClient::new(
                    server.channel.clone(),
                )
                .sign_up_with_association_invite(cu::SignUpWithAssociationInviteRequest {
                    request_id: rid.clone(),
                    token,
                    email: format!("{name}@signed-up.example"),
                    password: CUSTOMER_PASSWORD.into(),
                    country: "CN".into(),
                    ..Default::default()
                })
                .await,
            );
        }
        "partner.customers.v1.CustomerService/ChangeOwnPassword" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let customer = server
                .customer_with_password(&master, &partner, "crm-1")
                .await;
            let own = server.customer_token(&customer.account_name).await;
            ok(server
                .customers(&own)
                .change_own_password(cu::ChangeOwnPasswordRequest {
                    request_id: rid.clone(),
                    current_password: CUSTOMER_PASSWORD.into(),
                    new_password: "customer-password-2".into(),
                })
                .await);
        }
        "partner.customers.v1.CustomerService/SetCustomerFacts" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let customer = server.create_customer(&master, &partner, "crm-1").await;
            ok(server
                .customers(&admin)
                .set_customer_facts(cu::SetCustomerFactsRequest {
                    request_id: rid.clone(),
                    customer_id: customer.customer_id,
                    facts: Some(cu::CustomerFacts {
                        reported: true,
                        ..Default::default()
                    }),
                })
                .await);
        }
        "partner.customers.v1.CustomerService/DisassociateCustomer" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let customer = server.create_customer(&master, &partner, "crm-1").await;
            ok(server
                .customers(&master)
                .disassociate_customer(cu::DisassociateCustomerRequest {
                    request_id: rid.clone(),
                    customer_id: customer.customer_id,
                    reason: "moved on".into(),
                    reseller_id: String::new(),
                })
                .await);
        }
        "partner.customers.v1.CustomerService/SetCustomerBudget" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let customer = server.create_customer(&master, &partner, "crm-1").await;
            ok(server
                .customers(&master)
                .set_customer_budget(cu::SetCustomerBudgetRequest {
                    request_id: rid.clone(),
                    customer_id: customer.customer_id,
                    amount: Some(partner_api::r#type::v1::Money {
                        currency_code: "CNY".into(),
                        units: 100,
                        nanos: 0,
                    }),
                    budget_type: cu::BudgetType::Monthly as i32,
                    auto_freeze: false,
                    reseller_id: String::new(),
                    lift_budget_freeze: false,
                })
                .await);
        }
        "partner.customers.v1.CustomerService/SubmitIndividualVerification"
        | "partner.customers.v1.CustomerService/SubmitEnterpriseVerification"
        | "partner.customers.v1.CustomerService/ChangeToEnterpriseVerification"
        | "partner.customers.v1.CustomerService/ReviewVerification" => {
            verification_scenario(server, &admin, method, name, &rid).await;
        }
        m if m.starts_with("partner.customers.v1.OpportunityService/") => {
            opportunity_scenario(server, &admin, method, name, &rid).await;
        }
        m if m.starts_with("partner.customers.v1.LeadService/") => {
            lead_scenario(server, &admin, method, name, &rid).await;
        }
        "partner.customers.v1.CustomerService/FreezeCustomers"
        | "partner.customers.v1.CustomerService/UnfreezeCustomers" => {
            let (partner, master) = server.register_partner(&admin, name).await;
            let customer = server.create_customer(&master, &partner, "crm-1").await;
            let unfreeze = method.ends_with("UnfreezeCustomers");
            ok(server
                .customers(&master)
                .freeze_customers(cu::FreezeCustomersRequest {
                    request_id: if unfreeze {
                        new_request_id()
                    } else {
                        rid.clone()
                    },
                    customer_ids: vec![customer.customer_id.clone()],
                    mode: cu::FreezeMode::Account as i32,
                    reason: "overdue".into(),
                    reseller_id: String::new(),
                })
                .await);
            if unfreeze {
                ok(server
                    .customers(&master)
                    .unfreeze_customers(cu::UnfreezeCustomersRequest {
                        request_id: rid.clone(),
                        customer_ids: vec![customer.customer_id],
                        reason: "paid".into(),
                        reseller_id: String::new(),
                    })
                    .await);
            }
        }
        _ => return None,
    }
    Some(rid)
}

#[tokio::test]
async fn every_write_leaves_an_audit_record() {
    // A sandbox, so that moving its clock is a write like the others.
    let server = TestServer::start_on(TestDb::fresh().await, |c| c.sandbox = true).await;
    let mut missing = Vec::new();
    let mut checked = 0;
    let table = access_table();
    for (n, rule) in table
        .rules()
        .iter()
        .filter(|r| r.effect == Effect::Write)
        .enumerate()
    {
        let Some(request_id) = perform(&server, rule.method, n).await else {
            missing.push(rule.method);
            continue;
        };
        let admin = server.admin_token().await;
        let records = ok(server
            .audit(&admin)
            .list_audit_records(pb::ListAuditRecordsRequest {
                method: rule.method.into(),
                page_size: 500,
                ..Default::default()
            })
            .await)
        .audit_records;
        let mine: Vec<_> = records
            .iter()
            .filter(|r| r.request_id == request_id)
            .collect();
        assert!(!mine.is_empty(), "{}: {records:?}", rule.method);
        let mut resources: Vec<_> = mine.iter().map(|r| r.resource_id.as_str()).collect();
        resources.sort_unstable();
        resources.dedup();
        assert_eq!(
            resources.len(),
            mine.len(),
            "{}: written twice",
            rule.method
        );
        for r in mine {
            // A user, or a customer acting itself.
            assert!(
                !r.actor_user_id.is_empty() || !r.actor_customer_id.is_empty(),
                "{}: {r:?}",
                rule.method
            );
            assert!(!r.resource_id.is_empty(), "{}: {r:?}", rule.method);
            // A summary of the change: the new state, or for deletions the old one.
            assert!(
                r.after.is_some() || r.before.is_some(),
                "{}: {r:?}",
                rule.method
            );
        }
        checked += 1;
    }
    assert!(
        missing.is_empty(),
        "writes without an audit scenario: {missing:?}"
    );
    assert!(checked >= 22, "only {checked} writes checked");
}

/// Submits (and reviews) a real-name verification so that `method` is the
/// call made with `rid`.
async fn verification_scenario(
    server: &TestServer,
    admin: &str,
    method: &str,
    name: &str,
    rid: &str,
) {
    let (partner, master) = server.register_partner(admin, name).await;
    let customer = server.create_customer(&master, &partner, "crm-1").await;
    let id = customer.customer_id;
    let key = |m: &str| {
        if method.ends_with(m) {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    let company = || {
        Some(cu::EnterpriseDetails {
            company_name: "Audited Ltd".into(),
            registration_number: "9111-0000".into(),
            licence_file_ref: "obs://licence.pdf".into(),
        })
    };
    if method.ends_with("SubmitEnterpriseVerification") {
        ok(server
            .customers(&master)
            .submit_enterprise_verification(cu::SubmitEnterpriseVerificationRequest {
                request_id: rid.to_owned(),
                customer_id: id,
                enterprise: company(),
                reseller_id: String::new(),
            })
            .await);
        return;
    }
    let submitted = ok(server
        .customers(&master)
        .submit_individual_verification(cu::SubmitIndividualVerificationRequest {
            request_id: key("SubmitIndividualVerification"),
            customer_id: id.clone(),
            individual: Some(cu::IndividualDetails {
                full_name: "Audited Person".into(),
                document_type: cu::IdentityDocumentType::Passport as i32,
                document_number: "E1234567".into(),
            }),
            reseller_id: String::new(),
        })
        .await)
    .review
    .unwrap_or_default();
    if method.ends_with("SubmitIndividualVerification") {
        return;
    }
    ok(server
        .customers(admin)
        .review_verification(cu::ReviewVerificationRequest {
            request_id: key("ReviewVerification"),
            verification_id: submitted.verification_id,
            approve: true,
            reason: String::new(),
        })
        .await);
    if method.ends_with("ChangeToEnterpriseVerification") {
        ok(server
            .customers(&master)
            .change_to_enterprise_verification(cu::ChangeToEnterpriseVerificationRequest {
                request_id: rid.to_owned(),
                customer_id: id,
                enterprise: company(),
                reseller_id: String::new(),
            })
            .await);
    }
}

/// Makes a lead and works on it so that `method` is the call made with `rid`.
async fn lead_scenario(server: &TestServer, admin: &str, method: &str, name: &str, rid: &str) {
    let (partner, master) = server.register_partner(admin, name).await;
    let key = |m: &str| {
        if method.ends_with(m) {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    let dispatch = method.ends_with("DispatchLead");
    let creator = if dispatch {
        admin.to_owned()
    } else {
        master.clone()
    };
    let lead = ok(server
        .leads(&creator)
        .create_lead(cu::CreateLeadRequest {
            request_id: key("CreateLead"),
            lead: Some(cu::Lead {
                company_name: "Audited prospect".into(),
                email: "prospect@audited.example".into(),
                ..Default::default()
            }),
        })
        .await)
    .lead
    .unwrap_or_default();
    let id = lead.lead_id;
    let leads = server.leads(&master);
    let rid = rid.to_owned();
    match method.rsplit('/').next().unwrap_or_default() {
        "DispatchLead" => {
            ok(server
                .leads(admin)
                .dispatch_lead(cu::DispatchLeadRequest {
                    request_id: rid,
                    lead_id: id,
                    partner_id: partner.partner_id,
                })
                .await);
        }
        "UpdateLead" => {
            ok(leads
                .clone()
                .update_lead(cu::UpdateLeadRequest {
                    request_id: rid,
                    lead: Some(cu::Lead {
                        lead_id: id,
                        description: "bigger".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["description".into()],
                    }),
                })
                .await);
        }
        "AddFollowUp" => {
            ok(leads
                .clone()
                .add_follow_up(cu::AddFollowUpRequest {
                    request_id: rid,
                    lead_id: id,
                    note: "called".into(),
                })
                .await);
        }
        "CloseLead" => {
            ok(leads
                .clone()
                .close_lead(cu::CloseLeadRequest {
                    request_id: rid,
                    lead_id: id,
                    reason: "no budget".into(),
                })
                .await);
        }
        "ConvertLead" => {
            let customer = server.create_customer(&master, &partner, "crm-lead").await;
            ok(leads
                .clone()
                .convert_lead(cu::ConvertLeadRequest {
                    request_id: rid,
                    lead_id: id,
                    customer_id: customer.customer_id,
                })
                .await);
        }
        "RequestOutboundCall" => {
            ok(leads
                .clone()
                .request_outbound_call(cu::RequestOutboundCallRequest {
                    request_id: rid,
                    lead_id: id,
                })
                .await);
        }
        _ => {}
    }
}

/// Submits and decides an opportunity (or sets a routing rule) so that
/// `method` is the call made with `rid`.
async fn opportunity_scenario(
    server: &TestServer,
    admin: &str,
    method: &str,
    name: &str,
    rid: &str,
) {
    let verb = method.rsplit('/').next().unwrap_or_default();
    let key = |m: &str| {
        if verb == m {
            rid.to_owned()
        } else {
            new_request_id()
        }
    };
    if verb == "SetRoutingRule" {
        ok(server
            .opportunities(admin)
            .set_routing_rule(cu::SetRoutingRuleRequest {
                request_id: rid.to_owned(),
                rule: Some(cu::RoutingRule {
                    country: "CN".into(),
                    region: name.into(),
                    office: "Audited office".into(),
                    update_time: None,
                }),
            })
            .await);
        return;
    }
    let (_, master) = server.register_partner(admin, name).await;
    let id = ok(server
        .opportunities(&master)
        .submit_opportunity(cu::SubmitOpportunityRequest {
            request_id: key("SubmitOpportunity"),
            opportunity: Some(cu::Opportunity {
                customer_name: "Audited prospect".into(),
                customer_email: format!("deal@{name}.example"),
                country: "CN".into(),
                ..Default::default()
            }),
        })
        .await)
    .opportunity
    .unwrap_or_default()
    .opportunity_id;
    if verb == "RejectOpportunity" {
        ok(server
            .opportunities(admin)
            .reject_opportunity(cu::RejectOpportunityRequest {
                request_id: rid.to_owned(),
                opportunity_id: id,
                reason: "no fit".into(),
            })
            .await);
        return;
    }
    if verb == "SubmitOpportunity" {
        return;
    }
    ok(server
        .opportunities(admin)
        .accept_opportunity(cu::AcceptOpportunityRequest {
            request_id: key("AcceptOpportunity"),
            opportunity_id: id.clone(),
        })
        .await);
    if verb == "MarkOpportunityWon" {
        ok(server
            .opportunities(&master)
            .mark_opportunity_won(cu::MarkOpportunityWonRequest {
                request_id: rid.to_owned(),
                opportunity_id: id,
            })
            .await);
    } else if verb == "MarkOpportunityLost" {
        ok(server
            .opportunities(&master)
            .mark_opportunity_lost(cu::MarkOpportunityLostRequest {
                request_id: rid.to_owned(),
                opportunity_id: id,
                reason: "budget cut".into(),
            })
            .await);
    }
}
