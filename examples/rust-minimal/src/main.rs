//! rust-minimal: an AWS Lambda function on the provided.al2023 runtime, with
//! fnopt's minimal runtime client (src/runtime.rs) for the fastest start.
//!
//! There is no Rust `fn main`: the C library calls the `main` below
//! directly, skipping Rust's own start-up code (a stack-overflow guard
//! found by reading /proc/self/maps, a signal stack for it, a check of the
//! standard streams), which a function on Lambda does not need and which
//! costs start-up time (fnopt's docs/bench.md has the measurements). The
//! runtime client ignores SIGPIPE as that code would; a stack overflow
//! ends the process with SIGSEGV instead of a message. `cargo test` keeps
//! the usual start-up.
#![cfg_attr(not(test), no_main)]

mod handler;
mod runtime;

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    // Work done before returning the handler (reading configuration,
    // opening clients) runs once per process; an error returned here is
    // reported to Lambda as an initialisation error.
    runtime::run(|| Ok(handler::handle))
}
