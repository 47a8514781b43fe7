//! The suite against every backend in the registry, in-process: every variant of every
//! adapter's mock, and the embedded virtual printer. One test per case × target
//! (`cargo test -p polyprint-conformance octoprint::lifecycle`).

fn main() -> std::process::ExitCode {
    polyprint_conformance::trials::main(polyprint_backends::REGISTRY)
}
