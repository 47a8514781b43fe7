//! `polyprint-bench`: measures polyprint side by side with bare clients and prints markdown.
//!
//! ```text
//! cargo run --release -p polyprint-bench             # the full run (a few minutes at most)
//! cargo run --release -p polyprint-bench -- --quick  # a smoke run (seconds)
//! cargo run --release -p polyprint-bench -- --only fleet --printers 1000,5000,10000
//! POLYPRINT_BENCH_KEY=… cargo run --release -p polyprint-bench -- --live octoprint=http://127.0.0.1:5000
//! ```
//!
//! Options: `--only TABLE[,…]`; `--printers N[,N…]` (fleet sizes, default 1000);
//! `--concurrency N` (fleet reads at once, default 64); `--backends NAME[,…]` (the registry's
//! network backends the fleet and overhead tables include, default all); `--live
//! BACKEND=URL` (table 1 against a real server instead of the bench's, with the credential
//! from `POLYPRINT_BENCH_KEY`, never from the command line).
//!
//! Tables: 1. per-call overhead of `status()` ([`overhead`]), 2. fleet polling ([`fleet`]),
//! 3. streamed upload ([`upload`]), 4. CLI start-up ([`cli_startup`]). Servers are children of
//! this process ([`child`], [`server`]) on 127.0.0.1 and stop with it.

mod child;
mod cli_startup;
mod fleet;
mod heap;
mod machine;
mod overhead;
mod report;
mod server;
mod stats;
mod upload;
mod watch;

use std::process::ExitCode;

/// Counts live heap bytes for the fleet table (off until a fleet child starts it).
#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

const USAGE: &str =
    "usage: polyprint-bench [--quick] [--only overhead|fleet|upload|watch|cli[,…]] \
                     [--printers N[,N…]] [--concurrency N] [--backends NAME[,…]] \
                     [--live BACKEND=URL (key in POLYPRINT_BENCH_KEY)]";

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
        Some("profile") => exit(overhead::profile_main(&args[1..])),
        _ => exit(bench(&args)),
    }
}

fn bench(args: &[String]) -> Result<(), String> {
    let mut quick = false;
    let mut only: Option<Vec<String>> = None;
    let mut fleet = fleet::Options::default();
    let mut live: Option<overhead::Live> = None;
    let mut it = args.iter();
    let list = |v: &String| v.split(',').map(str::to_string).collect::<Vec<_>>();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--only" => only = Some(list(it.next().ok_or(USAGE)?)),
            "--printers" => {
                let sizes: Result<Vec<usize>, _> = list(it.next().ok_or(USAGE)?)
                    .iter()
                    .map(|n| n.parse())
                    .collect();
                fleet.sizes = sizes
                    .ok()
                    .filter(|s| !s.is_empty() && s.iter().all(|n| (1..=100_000).contains(n)))
                    .ok_or("--printers takes sizes from 1 to 100000")?;
            }
            "--concurrency" => {
                fleet.concurrency = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=4096).contains(n))
                    .ok_or("--concurrency takes a number from 1 to 4096")?;
            }
            "--backends" => fleet.backends = Some(list(it.next().ok_or(USAGE)?)),
            "--live" => live = Some(overhead::Live::parse(it.next().ok_or(USAGE)?)?),
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
        let table = rt.block_on(overhead::run(
            quick,
            fleet.backends.as_deref(),
            live.as_ref(),
        ));
        println!("{}", table.render());
    }
    if wanted("fleet") && live.is_none() {
        println!("{}", fleet::run(quick, &fleet).render());
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
