//! How a Sage 300 refusal looks on the wire: the OData error body with Sage's code and status.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::Shared;
use crate::pipeline::{self, Refusal};
use crate::sage300::config::ErrorContentType;

/// A refusal on the wire.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn invalid_parameters(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidParameters", message)
    }

    pub(super) fn invalid_payload(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidPayload", message)
    }

    pub(super) fn general(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "General", message)
    }

    pub(super) fn resource_not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFound", message)
    }

    pub(super) fn method_not_allowed(method: &Method, what: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}' on {what}."),
        )
    }
}

/// The body of every error: `{"error":{"code","message":{"lang","value"}}}`.
pub(crate) fn error_body(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": {"lang": "en-US", "value": message}}}).to_string()
}

/// The response that carries `e`.
pub(super) fn response(shared: &Shared, e: &ApiError) -> Response {
    let content_type = match shared.settings.error_content_type {
        ErrorContentType::Json => "application/json; charset=utf-8",
        ErrorContentType::TextPlain => "text/plain; charset=utf-8",
    };
    pipeline::error_response(
        e.status,
        content_type,
        error_body(e.code, &e.message),
        "Basic realm=\"Sage300WebApi\"",
    )
}

/// The wire form of each refusal the shared pipeline makes.
impl From<Refusal> for ApiError {
    fn from(why: Refusal) -> ApiError {
        match why {
            Refusal::UnreadableBody(message) => ApiError::invalid_payload(message),
            Refusal::OverLimit => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests are being processed. Try again later.",
            ),
            Refusal::Injected => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An error has occurred (injected by the simulator).",
            ),
            Refusal::NotDropped => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "connection could not be dropped",
            ),
            Refusal::Forbidden(u) => ApiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "User '{}' is not authorized to use the Sage 300 Web API.",
                    u.to_uppercase()
                ),
            ),
            Refusal::Unauthorized => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Authorization has been denied for this request.",
            ),
        }
    }
}
