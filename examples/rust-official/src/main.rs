//! rust-official: an AWS Lambda function on the provided.al2023 runtime, with the
//! official runtime client (lambda_runtime).

mod handler;

use lambda_runtime::{run, service_fn, tracing, Error};

// One thread: a Lambda function handles one event at a time, and a
// current-thread runtime starts sooner than tokio's default worker pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Logs go to CloudWatch through stdout; the level follows
    // AWS_LAMBDA_LOG_LEVEL or RUST_LOG (INFO by default).
    tracing::init_default_subscriber();
    run(service_fn(handler::handle)).await
}
