//! A Lambda function on a custom runtime, with its own small Runtime API
//! client (std only, plus serde_json): it counts the words of `text`.

use serde_json::{json, Value};
use std::env;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Counts the words of the event's `text` field.
fn handle(event: &Value) -> Result<Value, String> {
    let text = event
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| "event has no \"text\" string".to_string())?;
    let words = text.split_whitespace().count();
    Ok(json!({ "words": words, "chars": text.chars().count() }))
}

/// One HTTP/1.1 exchange with the Runtime API: returns the headers and body.
fn request(api: &str, method: &str, path: &str, body: &[u8]) -> std::io::Result<(Vec<(String, String)>, Vec<u8>)> {
    let mut stream = TcpStream::connect(api)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let mut headers = Vec::new();
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                length = v.parse().ok();
            }
            headers.push((k, v));
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok((headers, body))
}

fn main() {
    let api = match env::var("AWS_LAMBDA_RUNTIME_API") {
        Ok(a) => a,
        Err(_) => {
            eprintln!("AWS_LAMBDA_RUNTIME_API is not set: run me on Lambda");
            std::process::exit(1);
        }
    };
    loop {
        let (headers, body) = request(&api, "GET", "/2018-06-01/runtime/invocation/next", b"").expect("next event");
        let id = headers
            .iter()
            .find(|(k, _)| k == "lambda-runtime-aws-request-id")
            .map(|(_, v)| v.clone())
            .expect("request id");
        let result = serde_json::from_slice::<Value>(&body)
            .map_err(|e| e.to_string())
            .and_then(|event| handle(&event));
        let (path, payload) = match result {
            Ok(v) => (format!("/2018-06-01/runtime/invocation/{id}/response"), v),
            Err(msg) => (
                format!("/2018-06-01/runtime/invocation/{id}/error"),
                json!({ "errorType": "BadEvent", "errorMessage": msg }),
            ),
        };
        request(&api, "POST", &path, payload.to_string().as_bytes()).expect("post result");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        let out = handle(&json!({"text": "the quick  brown fox"})).unwrap();
        assert_eq!(out["words"], 4);
        assert_eq!(out["chars"], 20);
    }

    #[test]
    fn rejects_events_without_text() {
        assert!(handle(&json!({"hello": "world"})).is_err());
    }
}
