//! The function's handler: raw JSON in, raw JSON out.

use lambda_runtime::{tracing, Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};

/// The event: any JSON object; only `name` is read.
#[derive(Debug, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Response {
    pub message: String,
}

pub async fn handle(event: LambdaEvent<Request>) -> Result<Response, Diagnostic> {
    let (request, ctx) = event.into_parts();
    let name = request.name.unwrap_or_else(|| "world".to_string());
    if name.trim().is_empty() {
        // Returned errors reach the caller as errorType and errorMessage.
        return Err(Diagnostic {
            error_type: "InvalidName".to_string(),
            error_message: "name must not be empty".to_string(),
        });
    }
    tracing::info!(request_id = %ctx.request_id, "greeting {name}");
    Ok(Response {
        message: format!("Hello, {name}!"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;

    async fn call(event: &str) -> Result<Response, Diagnostic> {
        let request = serde_json::from_str(event).unwrap();
        handle(LambdaEvent::new(request, Context::default())).await
    }

    #[tokio::test]
    async fn greets_by_name() {
        let got = call(r#"{"name": "Lambda"}"#).await.unwrap();
        assert_eq!(got.message, "Hello, Lambda!");
    }

    #[tokio::test]
    async fn any_event_gets_a_greeting() {
        // A real AWS event (an EventBridge notification) has no name.
        let got = call(include_str!("../testdata/event.json")).await.unwrap();
        assert_eq!(got.message, "Hello, world!");
    }

    #[tokio::test]
    async fn an_empty_name_is_an_error() {
        let err = call(r#"{"name": ""}"#).await.unwrap_err();
        assert_eq!(err.error_type, "InvalidName");
    }
}
