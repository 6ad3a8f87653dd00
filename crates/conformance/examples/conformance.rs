//! Runs the conformance suite from the source tree, e.g.
//! `cargo run -p naftiko-conformance --example conformance -- --runtime 'target/debug/naftiko-gateway serve --upstream-timeout 2s {capability}'`.

fn main() -> std::process::ExitCode {
    naftiko_conformance::main_cli(std::env::args().skip(1).collect())
}
