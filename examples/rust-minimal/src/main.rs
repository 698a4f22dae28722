//! rust-minimal: an AWS Lambda function on the provided.al2023 runtime, with
//! fnopt's minimal runtime client (src/runtime.rs) for the fastest start.

mod handler;
mod runtime;

fn main() {
    // Work done before returning the handler (reading configuration,
    // opening clients) runs once per process; an error returned here is
    // reported to Lambda as an initialisation error.
    runtime::run(|| Ok(handler::handle))
}
