//! SDK errors → gaps.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use netaudit_model::{Gap, GapKind};
use std::sync::Arc;

/// The gap an SDK error leaves: the service's error code when it sent one, otherwise what failed
/// on the way (timeout, connection, response).
pub fn gap_from_sdk<E>(err: &SdkError<E, HttpResponse>, account: &str, region: Option<&str>, api: &str) -> Arc<Gap>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            // Without an AWS error code, the HTTP status is the most exact thing to report.
            let code = e
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP{}", service.raw().status().as_u16()));
            let message = e.message().map(str::to_owned).unwrap_or_else(|| describe(err));
            (code, message)
        }
        SdkError::TimeoutError(_) => ("Timeout".to_owned(), describe(err)),
        SdkError::DispatchFailure(d) if d.is_timeout() => ("Timeout".to_owned(), describe(err)),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_owned(), describe(err)),
        SdkError::ResponseError(_) => ("ResponseError".to_owned(), describe(err)),
        SdkError::ConstructionFailure(_) => ("ConstructionFailure".to_owned(), describe(err)),
        _ => ("SdkError".to_owned(), describe(err)),
    };
    Arc::new(Gap {
        kind: GapKind::ApiError,
        account: account.to_owned(),
        region: region.map(str::to_owned),
        api: api.to_owned(),
        code,
        message,
        source: None,
    })
}

/// The error and its causes on one line.
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
