//! The function's handler: raw JSON in, raw JSON out.

use serde::{Deserialize, Serialize};

use crate::runtime::{Context, Error};

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

pub fn handle(event: Request, ctx: &Context) -> Result<Response, Error> {
    let name = event.name.unwrap_or_else(|| "world".to_string());
    if name.trim().is_empty() {
        // Returned errors reach the caller as errorType and errorMessage.
        return Err(Error::new("InvalidName", "name must not be empty"));
    }
    println!("request {}: greeting {name}", ctx.request_id);
    Ok(Response {
        message: format!("Hello, {name}!"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(event: &str) -> Result<Response, Error> {
        handle(serde_json::from_str(event).unwrap(), &Context::default())
    }

    #[test]
    fn greets_by_name() {
        let got = call(r#"{"name": "Lambda"}"#).unwrap();
        assert_eq!(got.message, "Hello, Lambda!");
    }

    #[test]
    fn any_event_gets_a_greeting() {
        // A real AWS event (an EventBridge notification) has no name.
        let got = call(include_str!("../testdata/event.json")).unwrap();
        assert_eq!(got.message, "Hello, world!");
    }

    #[test]
    fn an_empty_name_is_an_error() {
        let err = call(r#"{"name": ""}"#).unwrap_err();
        assert_eq!(err.error_type(), "InvalidName");
    }
}
