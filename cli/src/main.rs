//! `polyprint`: watch and drive 3D printers from a shell, for people and agents.
//!
//! Every command takes `--json` (exactly one JSON document on stdout) and exits with a code
//! derived from the error kind; see [`cli::AFTER_HELP`].

mod actions;
mod app;
mod backends;
mod cli;
mod config;
mod conformance;
mod demo;
mod fleet;
mod init;
mod outcome;
mod preflight;
mod render;
mod serve;
mod watch;

use clap::{CommandFactory, Parser};

use crate::app::Ctx;
use crate::cli::{Cli, Command};
use crate::outcome::{emit, CliError, Exit, Reply};

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_failure(e),
    };
    init_tracing(cli.global.verbose);
    let json = cli.global.json;
    let outcome = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(cli)),
        Err(e) => Err(CliError::io(format!("cannot start the runtime: {e}"))),
    };
    let quiet = matches!(&outcome, Ok(r) if r.data.is_null() && r.text.is_empty());
    let exit = if quiet {
        Exit::Success
    } else {
        emit(json, outcome)
    };
    std::process::ExitCode::from(exit as u8)
}

/// Help and version exit 0; usage errors exit 4 (as JSON with `--json`).
fn parse_failure(e: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            std::process::ExitCode::SUCCESS
        }
        _ => {
            if std::env::args().any(|a| a == "--json") {
                // clap's whole message (what is missing or wrong, and the usage line), without
                // its "error: " prefix and the closing pointer to --help.
                let rendered = e.render().to_string();
                let message = rendered
                    .lines()
                    .map(str::trim_end)
                    .filter(|l| !l.trim().is_empty() && !l.starts_with("For more information"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let message = message.trim_start_matches("error: ");
                let message = if message.is_empty() {
                    "invalid command line".to_string()
                } else {
                    message.to_string()
                };
                emit(true, Err(CliError::usage(message)));
            } else {
                let _ = e.print();
            }
            std::process::ExitCode::from(Exit::Other as u8)
        }
    }
}

fn init_tracing(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = match verbose {
        1 => "polyprint=debug,polyprint_cli=debug,polyprint_octoprint=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("POLYPRINT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn run(cli: Cli) -> Result<Reply, CliError> {
    let ctx = Ctx::new(cli.global);
    // Commands that need no printer.
    match &cli.command {
        Command::Demo { speed } => return demo::run(*speed, ctx.json, ctx.tty).await,
        Command::Mock {
            backend,
            port,
            speed,
            variant,
        } => return serve::mock(backend, *port, *speed, variant.as_deref(), ctx.json).await,
        Command::Init {
            name,
            make_default,
            no_input,
        } => return init::init(&ctx.global, name.clone(), *make_default, *no_input),
        Command::Printers => return fleet::printers(&ctx).await,
        Command::Watch {
            interval,
            all: true,
            for_secs,
        } => {
            let limit = for_secs.map(watch::interval).transpose()?;
            return watch::watch_all(&ctx, watch::interval(*interval)?, limit).await;
        }
        Command::Conformance {
            allow_motion,
            filter,
        } => return conformance::run(&ctx.global, *allow_motion, filter.clone()).await,
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "polyprint", &mut std::io::stdout());
            return Ok(Reply::default());
        }
        // Destructive commands are refused before anything is resolved or sent.
        Command::Print { confirm: false, .. }
        | Command::Cancel { confirm: false }
        | Command::Gcode { confirm: false, .. } => {
            return Err(CliError::confirmation_required(cli.command.name()))
        }
        _ => {}
    }
    let conn = match &cli.command {
        // What `connect` asks for goes into the printer's options (OctoPrint's port and baud
        // rate), over the configuration file's.
        Command::Connect { port, baudrate, .. } => {
            let mut target = ctx.target()?;
            if let Some(p) = port {
                target.entry.options.insert("port".into(), p.clone());
            }
            if let Some(b) = baudrate {
                target
                    .entry
                    .options
                    .insert("baudrate".into(), b.to_string());
            }
            app::open(target, ctx.global.timeout)?
        }
        _ => ctx.connect()?,
    };
    match cli.command {
        Command::Status => actions::status(&conn).await,
        Command::Watch {
            interval, for_secs, ..
        } => {
            let limit = for_secs.map(watch::interval).transpose()?;
            watch::watch(
                &conn.name,
                conn.printer.clone(),
                watch::interval(interval)?,
                limit,
                watch::Shown::of(&ctx),
            )
            .await
        }
        Command::Files => actions::files(&conn).await,
        Command::Upload { file, name } => actions::upload(&ctx, &conn, &file, name).await,
        Command::Print {
            file,
            skip_if_printing,
            stored,
            watch,
            ..
        } => actions::print(&ctx, &conn, &file, skip_if_printing, stored, watch).await,
        Command::Pause { watch } => actions::pause(&ctx, &conn, watch).await,
        Command::Resume { watch } => actions::resume(&ctx, &conn, watch).await,
        Command::Cancel { .. } => actions::cancel(&conn).await,
        Command::CancelObject { id } => actions::cancel_object(&conn, id).await,
        Command::Preflight { file } => actions::preflight(&ctx, &conn, file).await,
        Command::Temp(args) => actions::temp(&conn, &args).await,
        Command::Jog { x, y, z, speed } => actions::jog(&conn, x, y, z, speed).await,
        Command::Home { axes } => actions::home(&conn, &axes).await,
        Command::Extrude { mm } => actions::extrude(&conn, mm).await,
        Command::Light { state } => actions::light(&conn, state).await,
        Command::Gcode { commands, .. } => actions::gcode(&conn, &commands).await,
        Command::Snapshot { output } => actions::snapshot(&conn, &output).await,
        Command::Jobs { limit } => actions::jobs(&conn, limit).await,
        Command::Connect { wait, .. } => {
            if !(wait.is_finite() && (0.0..=3600.0).contains(&wait)) {
                return Err(CliError::usage("--wait must be between 0 and 3600 seconds"));
            }
            actions::connect(&conn, std::time::Duration::from_secs_f64(wait)).await
        }
        Command::Disconnect => actions::disconnect(&conn).await,
        Command::Features => actions::features(&conn).await,
        Command::Conformance { .. } => unreachable!("handled above"),
        Command::Demo { .. }
        | Command::Mock { .. }
        | Command::Init { .. }
        | Command::Printers
        | Command::Completions { .. } => unreachable!("handled above"),
    }
}
