//! Gives tonic's own refusals of malformed requests the platform's error
//! contract. tonic answers a request that does not decode (bad protobuf,
//! invalid UTF-8 in a string) with INTERNAL and one that exceeds the size cap
//! with OUT_OF_RANGE, both without an ErrorInfo. Neither is the server's
//! fault: they become INVALID_ARGUMENT (`FIELD_VIOLATION`) and
//! RESOURCE_EXHAUSTED (`REQUEST_TOO_LARGE`), with ErrorInfo like every other
//! refusal.

use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use partner_kernel::error::{FieldViolation, Refusal};
use tonic::{Code, Status};
use tower::{Layer, Service};

const GRPC_STATUS: &str = "grpc-status";
const GRPC_MESSAGE: &str = "grpc-message";
const GRPC_DETAILS: &str = "grpc-status-details-bin";

/// Adds [`CodecErrors`] around a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodecErrorsLayer;

impl<S> Layer<S> for CodecErrorsLayer {
    type Service = CodecErrors<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CodecErrors { inner }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CodecErrors<S> {
    inner: S,
}

/// The platform's refusal for a trailers-only tonic refusal, if it is one of
/// the codec's. Our own refusals always carry details, so they never match.
fn translate(headers: &http::HeaderMap) -> Option<Status> {
    if headers.contains_key(GRPC_DETAILS) {
        return None;
    }
    let code = headers.get(GRPC_STATUS)?.to_str().ok()?;
    let message = headers.get(GRPC_MESSAGE)?.to_str().ok()?;
    let message = percent_encoding::percent_decode_str(message).decode_utf8_lossy();
    let refusal = match code {
        "13" if message.starts_with("failed to decode Protobuf message") => {
            Refusal::invalid(vec![FieldViolation::new("request", message.into_owned())])
        }
        "11" if message.contains("message length too large") => Refusal::new(
            Code::ResourceExhausted,
            "REQUEST_TOO_LARGE",
            message.into_owned(),
        ),
        _ => return None,
    };
    Some(refusal.into())
}

impl<S, B> Service<http::Request<B>> for CodecErrors<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        self.inner
            .call(req)
            .map(|result| {
                result.map(|mut resp| {
                    if let Some(status) = translate(resp.headers()) {
                        let replacement = status.into_http::<tonic::body::Body>();
                        for name in [GRPC_STATUS, GRPC_MESSAGE, GRPC_DETAILS] {
                            match replacement.headers().get(name) {
                                Some(v) => resp.headers_mut().insert(name, v.clone()),
                                None => resp.headers_mut().remove(name),
                            };
                        }
                    }
                    resp
                })
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(code: &str, message: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(
            GRPC_STATUS,
            http::HeaderValue::from_str(code).unwrap_or(http::HeaderValue::from_static("0")),
        );
        h.insert(
            GRPC_MESSAGE,
            http::HeaderValue::from_str(message).unwrap_or(http::HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn translates_only_codec_refusals() {
        let decode = translate(&headers(
            "13",
            "failed%20to%20decode%20Protobuf%20message%3A%20x",
        ));
        assert_eq!(decode.map(|s| s.code()), Some(Code::InvalidArgument));
        let large = translate(&headers(
            "11",
            "Error,%20decoded%20message%20length%20too%20large",
        ));
        assert_eq!(large.map(|s| s.code()), Some(Code::ResourceExhausted));
        assert!(translate(&headers("13", "internal%20error")).is_none());
        let mut ours = headers("13", "failed%20to%20decode%20Protobuf%20message");
        ours.insert(GRPC_DETAILS, http::HeaderValue::from_static("AA"));
        assert!(translate(&ours).is_none());
    }
}
