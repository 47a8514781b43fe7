//! `polyprint-bench`: measures polyprint side by side with bare clients and prints markdown.
//!
//! ```text
//! cargo run --release -p polyprint-bench             # the full run (a few minutes at most)
//! cargo run --release -p polyprint-bench -- --quick  # a smoke run (seconds)
//! ```
//!
//! Tables: 1. per-call overhead of `status()` ([`overhead`]), 2. fleet polling ([`fleet`]),
//! 3. streamed upload ([`upload`]), 4. CLI start-up ([`cli_startup`]). Servers are children of
//! this process ([`child`], [`server`]) on 127.0.0.1 and stop with it.

mod child;
mod cli_startup;
mod fleet;
mod machine;
mod overhead;
mod report;
mod server;
mod stats;
mod upload;
mod watch;

use std::process::ExitCode;

const USAGE: &str = "usage: polyprint-bench [--quick] [--only overhead|fleet|upload|watch|cli[,…]]";

fn exit(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polyprint-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // Hidden subcommands: this binary re-executed as a server or a measuring child.
        Some("serve") => exit(server::main(&args[1..]).map_err(|e| e.to_string())),
        Some("fleet-child") => exit(fleet::child_main(&args[1..])),
        Some("upload-child") => exit(upload::child_main(&args[1..])),
        Some("watch-child") => exit(watch::child_main(&args[1..])),
        _ => exit(bench(&args)),
    }
}

fn bench(args: &[String]) -> Result<(), String> {
    let mut quick = false;
    let mut only: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--only" => {
                let list = it.next().ok_or(USAGE)?;
                only = Some(list.split(',').map(str::to_string).collect());
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    stats::raise_nofile_limit();
    let command = format!(
        "cargo run --release -p polyprint-bench{}",
        if args.is_empty() {
            String::new()
        } else {
            format!(" -- {}", args.join(" "))
        }
    );
    println!("# polyprint benchmarks\n");
    println!("{}- Command: `{command}`\n", machine::describe());
    let started = std::time::Instant::now();
    if wanted("overhead") {
        let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
        println!("{}", rt.block_on(overhead::run(quick)).render());
    }
    if wanted("fleet") {
        println!("{}", fleet::run(quick).render());
    }
    if wanted("upload") {
        println!("{}", upload::run(quick).render());
    }
    if wanted("watch") {
        println!("{}", watch::run(quick).render());
    }
    if wanted("cli") {
        println!("{}", cli_startup::run(quick).render());
    }
    println!("Total run time: {:.0} s.", started.elapsed().as_secs_f64());
    Ok(())
}
