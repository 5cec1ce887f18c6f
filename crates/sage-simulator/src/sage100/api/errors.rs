//! How a Sage 100 refusal looks on the wire: an SData diagnosis with its `sdataCode` and status.

use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::{Shared, XML_TYPE};
use crate::pipeline::{self, Refusal};
use crate::sage100::config::DiagnosisStyle;
use crate::sdata::atom::{self, Diagnosis};

/// A refusal on the wire.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    diag: Diagnosis,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        sdata_code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            diag: Diagnosis {
                severity: "error",
                sdata_code,
                application_code: String::new(),
                message: message.into(),
                payload_path: None,
            },
        }
    }

    /// A business-rule refusal: `ApplicationDiagnosis`, empty application code.
    pub(super) fn app(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status, "ApplicationDiagnosis", message)
    }

    pub(super) fn bad_query(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadQueryParameter", message)
    }

    pub(super) fn bad_url(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::new(status, "BadUrlSyntax", message)
    }

    /// Points the diagnosis at a column of the posted customer.
    pub(super) fn at(self, column: &str) -> ApiError {
        self.at_in("AR_Customer", column)
    }

    /// Points the diagnosis at a column of the posted resource of kind `kind`.
    pub(super) fn at_in(mut self, kind: &str, column: &str) -> ApiError {
        self.diag.payload_path = Some(format!("/entry/sdata:payload/{kind}/{column}"));
        self
    }
}

pub(super) fn method_not_allowed(method: &Method, what: &str) -> ApiError {
    ApiError::app(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The method {method} is not supported on {what}."),
    )
}

/// The response that carries `e`.
pub(super) fn response(shared: &Shared, e: &ApiError) -> Response {
    let prefixed = shared.settings.diagnosis_style == DiagnosisStyle::Prefixed;
    pipeline::error_response(
        e.status,
        XML_TYPE,
        atom::diagnosis_xml(&e.diag, prefixed),
        "Basic realm=\"SData\"",
    )
}

/// The wire form of each refusal the shared pipeline makes.
impl From<Refusal> for ApiError {
    fn from(why: Refusal) -> ApiError {
        match why {
            Refusal::UnreadableBody(message) => ApiError::app(StatusCode::BAD_REQUEST, message),
            Refusal::OverLimit => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ApplicationUnavailable",
                    "Too many requests are being processed. Try again later.",
                );
                e.diag.severity = "transient";
                e
            }
            Refusal::Injected => ApiError::app(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unexpected error occurred (injected by the simulator).",
            ),
            Refusal::NotDropped => ApiError::app(
                StatusCode::INTERNAL_SERVER_ERROR,
                "connection could not be dropped",
            ),
            Refusal::Forbidden(u) => ApiError::new(
                StatusCode::FORBIDDEN,
                "ApplicationDiagnosis",
                format!("The user '{u}' is not allowed to use SData for this company."),
            ),
            Refusal::Unauthorized => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "ApplicationDiagnosis",
                "Authentication failed: the user logon or password is not valid.",
            ),
        }
    }
}
