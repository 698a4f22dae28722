//! A small client for the AWS Lambda Runtime API (version 2018-06-01),
//! written with the standard library and serde_json only: no async runtime
//! and no HTTP crate, so the binary stays small and starts fast.
//!
//! It implements the whole contract of
//! https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html:
//! - GET /runtime/invocation/next, with the Lambda-Runtime-* headers turned
//!   into a [`Context`] and `_X_AMZN_TRACE_ID` set from the trace header;
//! - POST /runtime/invocation/{id}/response with the handler's result;
//! - POST /runtime/invocation/{id}/error when the handler returns an error,
//!   the event cannot be decoded or the handler panics;
//! - POST /runtime/init/error when initialisation fails or panics.
//!
//! Panics: the release profile sets `panic = "abort"`, so a panic cannot be
//! caught and turned into an error value. Instead a panic hook, which runs
//! before the process aborts, posts the error for the invocation (or the
//! initialisation) in progress; Lambda then starts a fresh process.

// The client's API is whole even where a handler uses only part of it.
#![allow(dead_code)]

use std::env;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::panic;
use std::process;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

const API_VERSION: &str = "2018-06-01";

/// The context of one invocation, read from the headers of /next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Lambda-Runtime-Aws-Request-Id.
    pub request_id: String,
    /// Lambda-Runtime-Deadline-Ms: the deadline in milliseconds since the
    /// Unix epoch.
    pub deadline_ms: u64,
    /// Lambda-Runtime-Invoked-Function-Arn.
    pub invoked_function_arn: String,
    /// Lambda-Runtime-Trace-Id (also exported as _X_AMZN_TRACE_ID).
    pub trace_id: Option<String>,
    /// Lambda-Runtime-Client-Context (JSON, from mobile SDK callers).
    pub client_context: Option<String>,
    /// Lambda-Runtime-Cognito-Identity (JSON, from mobile SDK callers).
    pub cognito_identity: Option<String>,
    /// Lambda-Runtime-Aws-Tenant-Id, for functions with tenant isolation.
    pub tenant_id: Option<String>,
}

impl Context {
    /// The moment the invocation times out.
    pub fn deadline(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.deadline_ms)
    }

    /// The time left before the invocation times out (zero once past).
    pub fn remaining(&self) -> Duration {
        self.deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }
}

/// An error a handler returns: Lambda reports its type and message to the
/// caller. Any `std::error::Error` converts into it with `?`, its type name
/// becoming the error type; `Error::new` makes one with a type of your own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error_type: String,
    message: String,
}

impl Error {
    pub fn new(error_type: impl Into<String>, message: impl fmt::Display) -> Self {
        Error {
            error_type: error_type.into(),
            message: message.to_string(),
        }
    }

    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

// Error deliberately does not implement std::error::Error itself: that
// would conflict with this blanket conversion, which is what lets handlers
// use `?` on any error.
impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        Error::new(std::any::type_name::<E>(), e)
    }
}

/// The body Lambda expects on /error and /init/error.
#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "errorType")]
    error_type: &'a str,
    #[serde(rename = "errorMessage")]
    error_message: &'a str,
    #[serde(rename = "stackTrace")]
    stack_trace: &'a [String],
}

/// What the process is doing, for the panic hook to know where to report.
#[derive(Debug, Clone)]
enum Phase {
    Init,
    Waiting,
    Invoking(String),
}

/// Runs the function: `init` runs once (its error is posted to
/// /init/error), then every event is decoded, given to the handler it
/// returned, and the result posted back. It returns only by exiting the
/// process, when the Runtime API cannot be reached.
pub fn run<I, H, E, R>(init: I) -> !
where
    I: FnOnce() -> Result<H, Error>,
    H: FnMut(E, &Context) -> Result<R, Error>,
    E: DeserializeOwned,
    R: Serialize,
{
    ignore_sigpipe();
    let api = match env::var("AWS_LAMBDA_RUNTIME_API") {
        Ok(api) if !api.is_empty() => api,
        _ => fail("AWS_LAMBDA_RUNTIME_API is not set: run this binary in Lambda or under a Runtime API emulator"),
    };
    let phase = Arc::new(Mutex::new(Phase::Init));
    install_panic_hook(api.clone(), Arc::clone(&phase));
    let mut client = Client::new(api);

    let mut handler = match init() {
        Ok(handler) => handler,
        Err(err) => {
            eprintln!("init error: {err}");
            let path = format!("/{API_VERSION}/runtime/init/error");
            if let Err(e) = client.post_error(&path, &err, &[]) {
                eprintln!("runtime: reporting the init error: {e}");
            }
            process::exit(1);
        }
    };

    loop {
        set_phase(&phase, Phase::Waiting);
        let (ctx, event) = match client.next() {
            Ok(next) => next,
            Err(e) => fail(&format!("runtime: getting the next event: {e}")),
        };
        match &ctx.trace_id {
            Some(id) => env::set_var("_X_AMZN_TRACE_ID", id),
            None => env::remove_var("_X_AMZN_TRACE_ID"),
        }
        set_phase(&phase, Phase::Invoking(ctx.request_id.clone()));
        let result = invoke(&mut handler, &event, &ctx);
        let sent = match result {
            Ok(body) => client.post_response(&ctx.request_id, body),
            Err(err) => {
                eprintln!("error: {err}");
                client.post_invocation_error(&ctx.request_id, &err)
            }
        };
        if let Err(e) = sent {
            fail(&format!(
                "runtime: answering request {}: {e}",
                ctx.request_id
            ));
        }
    }
}

/// Decodes the event, calls the handler and encodes its result.
fn invoke<H, E, R>(handler: &mut H, event: &[u8], ctx: &Context) -> Result<Vec<u8>, Error>
where
    H: FnMut(E, &Context) -> Result<R, Error>,
    E: DeserializeOwned,
    R: Serialize,
{
    let event: E = serde_json::from_slice(event)
        .map_err(|e| Error::new("Runtime.UnmarshalError", format!("decoding the event: {e}")))?;
    let output = handler(event, ctx)?;
    serde_json::to_vec(&output)
        .map_err(|e| Error::new("Runtime.MarshalError", format!("encoding the result: {e}")))
}

/// Makes a write to a connection the Runtime API closed fail with an error
/// instead of killing the process, as Rust's own start-up does (main.rs
/// skips it).
fn ignore_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13; // the same on every Linux architecture Lambda runs
    const SIG_IGN: usize = 1;
    // SAFETY: signal(2) with SIG_IGN installs no handler code and touches
    // no Rust state; it runs before the client starts any thread.
    unsafe {
        signal(SIGPIPE, SIG_IGN);
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    process::exit(1)
}

fn set_phase(phase: &Mutex<Phase>, next: Phase) {
    // A poisoned lock only means a thread panicked while holding it; the
    // value is still a whole Phase.
    *phase.lock().unwrap_or_else(|p| p.into_inner()) = next;
}

/// Reports panics as errors. The hook runs on the panicking thread before
/// the process aborts (panic = "abort") or unwinds, so it uses a fresh
/// connection of its own: the main one may be in any state.
fn install_panic_hook(api: String, phase: Arc<Mutex<Phase>>) {
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        default_hook(info); // the usual message and location on stderr
        let current = match phase.try_lock() {
            Ok(p) => p.clone(),
            Err(_) => return, // the runtime itself panicked mid-update
        };
        let path = match current {
            Phase::Init => format!("/{API_VERSION}/runtime/init/error"),
            Phase::Invoking(id) => format!("/{API_VERSION}/runtime/invocation/{id}/error"),
            Phase::Waiting => return, // no invocation to fail
        };
        let payload = info.payload();
        let message = match (
            payload.downcast_ref::<&str>(),
            payload.downcast_ref::<String>(),
        ) {
            (Some(s), _) => s.to_string(),
            (None, Some(s)) => s.clone(),
            (None, None) => "panic".to_string(),
        };
        let trace: Vec<String> = info.location().map(|l| l.to_string()).into_iter().collect();
        let err = Error::new("Runtime.Panic", message);
        if let Err(e) = Client::new(api.clone()).post_error(&path, &err, &trace) {
            eprintln!("runtime: reporting the panic: {e}");
        }
    }));
}

/// A minimal HTTP/1.1 client for the Runtime API on a keep-alive
/// connection.
struct Client {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

/// An HTTP response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn check(self, want: u16, what: &str) -> io::Result<Response> {
        if self.status == want {
            return Ok(self);
        }
        let body = String::from_utf8_lossy(&self.body);
        Err(io::Error::other(format!(
            "{what}: status {}: {}",
            self.status,
            body.trim()
        )))
    }
}

impl Client {
    fn new(addr: String) -> Self {
        Client { addr, conn: None }
    }

    /// GET /next: blocks until Lambda has an event for this process.
    fn next(&mut self) -> io::Result<(Context, Vec<u8>)> {
        let path = format!("/{API_VERSION}/runtime/invocation/next");
        let resp = self.request("GET", &path, &[], &[])?.check(200, "next")?;
        let header = |name: &str| resp.header(name).map(str::to_string);
        let request_id = header("Lambda-Runtime-Aws-Request-Id").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "next: no Lambda-Runtime-Aws-Request-Id header",
            )
        })?;
        let ctx = Context {
            request_id,
            deadline_ms: header("Lambda-Runtime-Deadline-Ms")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            invoked_function_arn: header("Lambda-Runtime-Invoked-Function-Arn").unwrap_or_default(),
            trace_id: header("Lambda-Runtime-Trace-Id"),
            client_context: header("Lambda-Runtime-Client-Context"),
            cognito_identity: header("Lambda-Runtime-Cognito-Identity"),
            tenant_id: header("Lambda-Runtime-Aws-Tenant-Id"),
        };
        Ok((ctx, resp.body))
    }

    fn post_response(&mut self, request_id: &str, body: Vec<u8>) -> io::Result<()> {
        let path = format!("/{API_VERSION}/runtime/invocation/{request_id}/response");
        let resp = self.request("POST", &path, &[], &body)?;
        if resp.status == 202 {
            return Ok(());
        }
        // Lambda refused the result (for example 413, too large): the
        // invocation is still open, so fail it with the reason.
        let reason = resp.check(202, "response").unwrap_err();
        eprintln!("runtime: {reason}");
        let err = Error::new("Runtime.ResponseError", reason);
        self.post_invocation_error(request_id, &err)
    }

    fn post_invocation_error(&mut self, request_id: &str, err: &Error) -> io::Result<()> {
        let path = format!("/{API_VERSION}/runtime/invocation/{request_id}/error");
        self.post_error(&path, err, &[])
    }

    fn post_error(&mut self, path: &str, err: &Error, stack_trace: &[String]) -> io::Result<()> {
        let body = serde_json::to_vec(&ErrorBody {
            error_type: &err.error_type,
            error_message: &err.message,
            stack_trace,
        })
        .map_err(io::Error::from)?;
        let headers = [(
            "Lambda-Runtime-Function-Error-Type",
            err.error_type.as_str(),
        )];
        self.request("POST", path, &headers, &body)?
            .check(202, "error")?;
        Ok(())
    }

    /// Sends one request. A kept-alive connection the server has closed in
    /// the meantime fails before any response byte arrives: then the
    /// request is sent once more on a fresh connection.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (k, v) in headers {
            // Header values must not break the request's framing.
            let v: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if method != "GET" {
            req.push_str("Content-Type: application/json\r\n");
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut raw = req.into_bytes();
        raw.extend_from_slice(body);

        if let Some(conn) = self.conn.take() {
            match exchange(conn, &raw) {
                Ok((resp, conn)) => {
                    self.conn = conn;
                    return Ok(resp);
                }
                Err(Exchange::Stale(_)) => {} // retry below
                Err(Exchange::Failed(e)) => return Err(e),
            }
        }
        let stream = TcpStream::connect(&self.addr)?;
        stream.set_nodelay(true)?;
        match exchange(BufReader::new(stream), &raw) {
            Ok((resp, conn)) => {
                self.conn = conn;
                Ok(resp)
            }
            Err(Exchange::Stale(e)) | Err(Exchange::Failed(e)) => Err(e),
        }
    }
}

/// Why an exchange failed: Stale when nothing came back at all.
enum Exchange {
    Stale(io::Error),
    Failed(io::Error),
}

/// Writes a request and reads its response; it gives back the connection
/// when it can carry another request.
fn exchange(
    mut conn: BufReader<TcpStream>,
    raw: &[u8],
) -> Result<(Response, Option<BufReader<TcpStream>>), Exchange> {
    if let Err(e) = conn.get_mut().write_all(raw) {
        return Err(Exchange::Stale(e));
    }
    let status_line = match read_line(&mut conn) {
        Ok(line) if !line.is_empty() => line,
        Ok(_) => return Err(Exchange::Stale(eof())),
        Err(e) => return Err(Exchange::Stale(e)),
    };
    read_response(conn, &status_line).map_err(Exchange::Failed)
}

fn eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed by the Runtime API",
    )
}

/// Reads one CRLF- (or LF-) terminated line without its terminator; an
/// empty string at end of stream.
fn read_line<R: BufRead>(r: &mut R) -> io::Result<String> {
    let mut buf = Vec::new();
    r.read_until(b'\n', &mut buf)?;
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn read_response(
    mut conn: BufReader<TcpStream>,
    status_line: &str,
) -> io::Result<(Response, Option<BufReader<TcpStream>>)> {
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad status line {status_line:?}"),
        )
    })?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut conn)?;
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let mut keep_alive = version == "HTTP/1.1"
        && !resp
            .header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let chunked = resp
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = resp
        .header("Content-Length")
        .map(|v| v.trim().parse::<usize>());
    if chunked {
        resp.body = read_chunked(&mut conn)?;
    } else if let Some(length) = length {
        let length =
            length.map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
        resp.body = vec![0; length];
        conn.read_exact(&mut resp.body)?;
    } else if status != 204 && status != 304 && status >= 200 {
        // No framing: the body runs to the end of the connection.
        conn.read_to_end(&mut resp.body)?;
        keep_alive = false;
    }
    Ok((resp, if keep_alive { Some(conn) } else { None }))
}

fn read_chunked<R: BufRead>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size {line:?}"),
            )
        })?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(r)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        if !read_line(r)?.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "chunk longer than its size",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// Serves each accepted connection with the canned raw responses, one
    /// per request, and returns the requests it read.
    fn serve(conns: Vec<Vec<&'static str>>) -> (String, thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let mut seen = Vec::new();
            for answers in conns {
                let (stream, _) = listener.accept().unwrap();
                let mut r = BufReader::new(stream);
                for answer in answers {
                    let mut req = String::new();
                    let mut length = 0;
                    loop {
                        let line = read_line(&mut r).unwrap();
                        if line.is_empty() {
                            break;
                        }
                        if let Some(v) = line.strip_prefix("Content-Length: ") {
                            length = v.parse().unwrap();
                        }
                        req.push_str(&line);
                        req.push('\n');
                    }
                    let mut body = vec![0; length];
                    r.read_exact(&mut body).unwrap();
                    req.push_str(&String::from_utf8(body).unwrap());
                    seen.push(req);
                    r.get_mut().write_all(answer.as_bytes()).unwrap();
                }
                // Dropping the stream closes the connection.
            }
            seen
        });
        (addr, handle)
    }

    const NEXT: &str = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: 1700000000000\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:f\r\nLambda-Runtime-Trace-Id: Root=1-5e9f0c65-1de4d666d4dd26aced652b6c\r\nContent-Length: 2\r\n\r\n{}";
    const ACCEPTED: &str =
        "HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";

    #[test]
    fn next_reads_the_context_and_reuses_the_connection() {
        let (addr, server) = serve(vec![vec![NEXT, ACCEPTED]]);
        let mut c = Client::new(addr);
        let (ctx, body) = c.next().unwrap();
        assert_eq!(body, b"{}");
        assert_eq!(ctx.request_id, "req-1");
        assert_eq!(ctx.deadline_ms, 1_700_000_000_000);
        assert_eq!(
            ctx.invoked_function_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        assert_eq!(
            ctx.trace_id.as_deref(),
            Some("Root=1-5e9f0c65-1de4d666d4dd26aced652b6c")
        );
        assert_eq!(ctx.client_context, None);
        c.post_response("req-1", b"{\"ok\":true}".to_vec()).unwrap();
        let seen = server.join().unwrap();
        assert!(
            seen[0].starts_with("GET /2018-06-01/runtime/invocation/next HTTP/1.1\n"),
            "{}",
            seen[0]
        );
        assert!(
            seen[1].starts_with("POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\n"),
            "{}",
            seen[1]
        );
        assert!(seen[1].ends_with("\n{\"ok\":true}"), "{}", seen[1]);
    }

    #[test]
    fn a_closed_keep_alive_connection_is_replaced() {
        // The first connection answers once and closes; the second request
        // must go out again on a new connection.
        let (addr, server) = serve(vec![vec![NEXT], vec![ACCEPTED]]);
        let mut c = Client::new(addr);
        c.next().unwrap();
        c.post_response("req-1", b"1".to_vec()).unwrap();
        assert_eq!(server.join().unwrap().len(), 2);
    }

    #[test]
    fn errors_carry_type_message_and_header() {
        let (addr, server) = serve(vec![vec![ACCEPTED]]);
        let mut c = Client::new(addr);
        c.post_invocation_error("req-2", &Error::new("InvalidName", "name is empty"))
            .unwrap();
        let seen = server.join().unwrap();
        assert!(
            seen[0].starts_with("POST /2018-06-01/runtime/invocation/req-2/error HTTP/1.1\n"),
            "{}",
            seen[0]
        );
        assert!(
            seen[0].contains("\nLambda-Runtime-Function-Error-Type: InvalidName\n"),
            "{}",
            seen[0]
        );
        assert!(
            seen[0].ends_with("\n{\"errorType\":\"InvalidName\",\"errorMessage\":\"name is empty\",\"stackTrace\":[]}"),
            "{}",
            seen[0]
        );
    }

    #[test]
    fn a_refused_response_fails_the_invocation() {
        // Lambda answers 413 to a response that is too large: the runtime
        // then reports the invocation as failed, with the reason.
        let too_large = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large";
        let (addr, server) = serve(vec![vec![too_large, ACCEPTED]]);
        let mut c = Client::new(addr);
        c.post_response("req-4", b"{}".to_vec()).unwrap();
        let seen = server.join().unwrap();
        assert!(
            seen[1].starts_with("POST /2018-06-01/runtime/invocation/req-4/error HTTP/1.1\n"),
            "{}",
            seen[1]
        );
        assert!(
            seen[1].contains("\"errorType\":\"Runtime.ResponseError\""),
            "{}",
            seen[1]
        );
        assert!(seen[1].contains("status 413: too large"), "{}", seen[1]);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nLambda-Runtime-Aws-Request-Id: req-3\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n";
        let (addr, server) = serve(vec![vec![chunked]]);
        let (ctx, body) = Client::new(addr).next().unwrap();
        assert_eq!(ctx.request_id, "req-3");
        assert_eq!(body, b"{\"a\":1}");
        server.join().unwrap();
    }

    #[test]
    fn refused_requests_are_errors() {
        let (addr, server) = serve(vec![vec![
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
        ]]);
        let err = Client::new(addr).next().unwrap_err();
        assert!(err.to_string().contains("status 500: oops"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn invoke_maps_failures_to_error_types() {
        let ctx = Context::default();
        let mut double = |n: u32, _: &Context| -> Result<u32, Error> { Ok(n * 2) };
        assert_eq!(invoke(&mut double, b"21", &ctx).unwrap(), b"42");
        let err = invoke(&mut double, b"\"x\"", &ctx).unwrap_err();
        assert_eq!(err.error_type(), "Runtime.UnmarshalError");
        let mut parse = |s: String, _: &Context| -> Result<u32, Error> { Ok(s.parse::<u32>()?) };
        let err = invoke(&mut parse, b"\"x\"", &ctx).unwrap_err();
        assert_eq!(err.error_type(), "core::num::error::ParseIntError");
    }
}
