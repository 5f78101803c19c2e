//! `partner.iam.v1.AuthService`.

use partner_api::iam::v1::{self as pb, auth_service_server::AuthService};
use partner_kernel::ids::{AccessKeyId, CustomerId};
use partner_kernel::principal::Principal;
use partner_kernel::validate::Violations;
use tonic::{Request, Response, Status};

use super::IamApi;

#[tonic::async_trait]
impl AuthService for IamApi {
    async fn login(
        &self,
        req: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let pb::LoginRequest { username, password } = req.into_inner();
        let mut v = Violations::new();
        // The shape only: whether the name exists is the credential check's.
        v.check(
            (1..=64).contains(&username.len()) && !username.chars().any(char::is_control),
            "username",
            "1-64 characters, no control characters",
        );
        v.check(
            (1..=256).contains(&password.len()),
            "password",
            "1-256 characters",
        );
        v.finish()?;
        let tokens = self.gateway.login(&username, password).await?;
        Ok(Response::new(pb::LoginResponse {
            tokens: Some(tokens),
        }))
    }

    async fn refresh_token(
        &self,
        req: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let pb::RefreshTokenRequest { refresh_token } = req.into_inner();
        let mut v = Violations::new();
        v.check(
            (1..=256).contains(&refresh_token.len()),
            "refresh_token",
            "1-256 characters",
        );
        v.finish()?;
        let tokens = self.gateway.refresh(&refresh_token).await?;
        Ok(Response::new(pb::RefreshTokenResponse {
            tokens: Some(tokens),
        }))
    }

    async fn logout(
        &self,
        req: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::LogoutRequest {} = req.into_inner();
        self.gateway.logout(&principal).await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn exchange_access_key(
        &self,
        req: Request<pb::ExchangeAccessKeyRequest>,
    ) -> Result<Response<pb::ExchangeAccessKeyResponse>, Status> {
        let pb::ExchangeAccessKeyRequest {
            access_key_id,
            secret,
        } = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("access_key_id", AccessKeyId::parse(&access_key_id));
        v.check(
            (1..=256).contains(&secret.len()),
            "secret",
            "1-256 characters",
        );
        let id = v.finish_with(id)?;
        let answer = self.gateway.exchange_access_key(id, &secret).await?;
        Ok(Response::new(answer))
    }

    async fn customer_login(
        &self,
        req: Request<pb::CustomerLoginRequest>,
    ) -> Result<Response<pb::CustomerLoginResponse>, Status> {
        let pb::CustomerLoginRequest { login, password } = req.into_inner();
        let mut v = Violations::new();
        v.check(
            (1..=254).contains(&login.len()) && !login.chars().any(char::is_control),
            "login",
            "1-254 characters, no control characters",
        );
        v.check(
            (1..=256).contains(&password.len()),
            "password",
            "1-256 characters",
        );
        v.finish()?;
        let (customer_id, tokens) = self.gateway.customer_login(&login, password).await?;
        Ok(Response::new(pb::CustomerLoginResponse {
            tokens: Some(tokens),
            customer_id: customer_id.to_string(),
        }))
    }

    async fn assume_customer(
        &self,
        req: Request<pb::AssumeCustomerRequest>,
    ) -> Result<Response<pb::AssumeCustomerResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let pb::AssumeCustomerRequest {
            customer_id,
            reason,
        } = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("customer_id", CustomerId::parse(&customer_id));
        let reason = v.take("reason", partner_kernel::validate::filter(reason, 256));
        let (id, reason) = v.finish_with(id.zip(reason))?;
        let answer = self.gateway.assume_customer(&principal, id, reason).await?;
        Ok(Response::new(answer))
    }

    async fn get_jwks(
        &self,
        req: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        let pb::GetJwksRequest {} = req.into_inner();
        let keys = self.gateway.keys().ring().jwks().to_vec();
        Ok(Response::new(pb::GetJwksResponse { keys }))
    }
}
