//! Command line: arguments → one run per capture, errors reported once each.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::ops::RangeInclusive;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::ProgressBar;

use synfin::annotate::Limits;
use synfin::annotate::{Handshake, Side, Teardown};
use synfin::capture::{CaptureError, CaptureReader};
use synfin::output::{
    ConnPick, Filter, Format, HostPick, Lang, Printer, RolePick, Source, TimeShown, View,
    conn_range, flag, handshake, side, teardown,
};
use synfin::pipeline::{self, Outcome};

mod check;
mod gate;
mod inputs;
mod live;
mod parallel;
mod progress;

/// Tell the story of every TCP connection in a pcap or pcapng capture: handshake, data,
/// teardown, segment by segment.
#[derive(Debug, Parser)]
#[command(
    name = "synfin",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    // An option given twice: the last wins (ripgrep's rule), so aliases can be overridden.
    args_override_self = true
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Captures to read (pcap or pcapng, gzip-compressed or not); '-' reads stdin.
    #[arg(required_unless_present_any = ["read", "live"], value_name = "CAPTURE")]
    captures: Vec<String>,

    /// Capture on this interface and tell the stories as segments arrive (with tcpdump or
    /// dumpcap, found on the PATH), until Ctrl-C or --duration.
    #[arg(long, value_name = "IFACE", conflicts_with_all = ["captures", "read"], help_heading = "Live capture")]
    live: Option<String>,

    /// With --live: the capture filter, in tcpdump's syntax [default: tcp].
    #[arg(
        long,
        value_name = "BPF",
        requires = "live",
        help_heading = "Live capture"
    )]
    filter: Option<String>,

    /// With --live: stop after this many seconds.
    #[arg(
        long,
        value_name = "SECS",
        requires = "live",
        value_parser = seconds,
        help_heading = "Live capture"
    )]
    duration: Option<std::time::Duration>,

    /// A capture to read, as tshark and tcpdump take it (`-r FILE`); with the others.
    #[arg(short = 'r', value_name = "CAPTURE")]
    read: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,

    /// The folder `--format parquet` writes into (made if missing): `connections.parquet`
    /// and `segments.parquet`, in `capture=NAME/` for each capture when there are several.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<std::path::PathBuf>,

    /// With --format parquet: write into DIR/capture=NAME/ even for one capture, so that
    /// runs on many machines, one capture each, add to one dataset.
    #[arg(long, requires = "output")]
    partition: bool,

    /// How many captures are analysed at once, when there are several [default: every
    /// core]. One capture at a time with more than one core, a long summary table is kept
    /// and laid out on a second thread; --jobs 1 keeps it to one.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    jobs: Option<usize>,

    /// Print only the overview and the summary table (with --format jsonl: only the
    /// connection records).
    #[arg(long)]
    summary: bool,

    /// Finish and report a connection that is not established (half-open or closing) after
    /// this many seconds of capture time without a segment (0: never).
    #[arg(long, value_name = "SECS", default_value_t = Limits::DEFAULT_IDLE_TIMEOUT_SECS)]
    idle_timeout: u64,

    /// Hold at most this many connections; beyond it the longest-silent are reported early.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_CONNS, value_parser = at_least_one)]
    max_conns: usize,

    /// Show only these connections (their indexes, as in Wireshark's tcp.stream): `3`,
    /// `3-7,12`.
    #[arg(long, value_name = "N[-M][,...]", value_delimiter = ',', value_parser = conn_range)]
    conn: Vec<RangeInclusive<u64>>,

    /// Show only connections with this port on either end.
    #[arg(long, value_name = "PORT[,...]", value_delimiter = ',')]
    port: Vec<u16>,

    /// Show only connections with this end: an address, a prefix (`127.0.0.0/8`), or an
    /// address and port as synfin prints them (`127.0.0.1:50186`, `[::1]:80`).
    #[arg(long, value_name = "ADDR[,...]", value_delimiter = ',', value_parser = HostPick::parse)]
    host: Vec<HostPick>,

    /// Show only segments of these roles: syn, syn-ack, ack, data, fin (FIN-ACKs too),
    /// fin-ack, final-ack, rst (RST-ACKs too), rst-ack, or every step of the handshake or
    /// teardown; the tables' spellings (SYN-ACK, "final ACK") are taken too.
    #[arg(long, value_name = "ROLE[,...]", value_delimiter = ',', value_parser = role)]
    role: Vec<RolePick>,

    /// Show only connections that are not clean: an opening not completed, a close other
    /// than by FINs both ways, a retransmission or other analysis flag that says something
    /// went wrong (not window-update, keep-alive, port-reused or duplicate), or a note.
    #[arg(long)]
    problems: bool,

    /// Show only connections with these Zeek conn_state codes (SF, S0, REJ, RSTO …).
    #[arg(long, value_name = "CODE[,...]", value_delimiter = ',')]
    state: Vec<String>,

    /// Show only connections whose handshake was: complete, syn-only, refused, partial,
    /// not-seen.
    #[arg(long, value_name = "HOW[,...]", value_delimiter = ',', value_parser = handshake)]
    handshake: Vec<Handshake>,

    /// Show only connections whose teardown was: four-way, three-way, simultaneous, reset,
    /// half-closed, open.
    #[arg(long, value_name = "HOW[,...]", value_delimiter = ',', value_parser = teardown)]
    teardown: Vec<Teardown>,

    /// Show only connections closed (first FIN or RST) by: client, server.
    #[arg(long, value_name = "SIDE", value_delimiter = ',', value_parser = side)]
    closed_by: Vec<Side>,

    /// Show only connections with a segment that had one of these analysis flags
    /// (retransmission, dup-ack, zero-window …, as JSON names them).
    #[arg(long, value_name = "FLAG[,...]", value_delimiter = ',', value_parser = flag)]
    flag: Vec<u16>,

    /// Raw sequence and acknowledgement numbers in tables instead of relative ones (JSON
    /// lines carry both).
    #[arg(long)]
    abs: bool,

    /// How tables show a segment's time: rel (seconds since the first frame), abs (UTC
    /// date and time of day), delta (since the connection's segment before); as tshark's -t.
    #[arg(long, value_enum, default_value_t = TimeArg::Rel)]
    time: TimeArg,

    /// Narrow tables and ladders to N columns by a compact layout [default: the terminal's
    /// width on a terminal; their natural width in a pipe or file].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..))]
    width: Option<u16>,

    /// Diagrams draw every segment (runs of plain data and ACKs are folded otherwise).
    #[arg(long)]
    full: bool,

    /// Mark Wireshark's analysis flags in colour: auto (on a terminal, unless NO_COLOR is
    /// set), always or never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,

    /// The language of what people read (explanation, tables, diagrams, HTML page): en or
    /// zh [default: from LC_ALL, LC_MESSAGES or LANG (zh_* is Chinese), else English]; JSON
    /// stays English.
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TimeArg {
    #[value(alias = "r")]
    Rel,
    #[value(alias = "ud", alias = "ad")]
    Abs,
    #[value(alias = "d", alias = "dd")]
    Delta,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A CI gate: check that every connection opened and closed as it should.
    Check(Box<check::CheckArgs>),
    /// Print a shell's completion script (e.g. `synfin completions bash >
    /// /etc/bash_completion.d/synfin`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (e.g. `synfin man > synfin.1; man ./synfin.1`).
    Man,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Table,
    Jsonl,
    /// A sequence (ladder) diagram per connection.
    Ladder,
    /// A Mermaid sequenceDiagram per connection.
    Mermaid,
    /// One SVG document with every connection's diagram.
    Svg,
    /// One self-contained HTML page: every diagram and the summary table.
    Html,
    /// The story in words: each segment, where its numbers come from, the call that most
    /// likely caused it and the states it leads to (`--lang en|zh`).
    Explain,
    /// Zeek's conn.log (ASCII), with Zeek's columns and semantics.
    Zeek,
    /// Zeek's conn.log as JSON lines.
    ZeekJson,
    /// Parquet files in the folder -o names: connections.parquet and segments.parquet.
    Parquet,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LangArg {
    En,
    Zh,
}

impl LangArg {
    /// The language asked for, else the environment's.
    fn chosen(arg: Option<LangArg>) -> Lang {
        match arg {
            Some(LangArg::En) => Lang::En,
            Some(LangArg::Zh) => Lang::Zh,
            None => Lang::from_env(),
        }
    }
}

/// Exit statuses (SPEC.md).
const EXIT_OK: u8 = 0;
const EXIT_PROBLEM: u8 = 1;
const EXIT_INPUT: u8 = 2;

pub fn run(mut args: Args) -> ExitCode {
    match args.command {
        Some(Command::Check(check)) => return ExitCode::from(check::run(*check)),
        Some(Command::Completions { shell }) => {
            let mut command = Args::command();
            clap_complete::generate(shell, &mut command, "synfin", &mut io::stdout());
            return ExitCode::from(EXIT_OK);
        }
        Some(Command::Man) => {
            return match clap_mangen::Man::new(Args::command()).render(&mut io::stdout()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
                Err(e) => {
                    eprintln!("synfin: writing the manual: {e}");
                    ExitCode::from(EXIT_INPUT)
                }
            };
        }
        None => {}
    }
    args.captures.splice(0..0, std::mem::take(&mut args.read));
    let format = match (args.format, args.summary) {
        (FormatArg::Jsonl, false) => Format::Jsonl,
        (FormatArg::Jsonl, true) => Format::JsonlConnections,
        (FormatArg::Table, true) => Format::Summary,
        (FormatArg::Table, false) => Format::Table,
        (FormatArg::Ladder, false) => Format::Ladder,
        (FormatArg::Mermaid, false) => Format::Mermaid,
        (FormatArg::Svg, false) => Format::Svg,
        (FormatArg::Html, false) => Format::Html,
        (FormatArg::Explain, false) => Format::Explain,
        // A conn.log is connections only: --summary changes nothing.
        (FormatArg::Zeek, _) => Format::Zeek,
        (FormatArg::ZeekJson, _) => Format::ZeekJson,
        (FormatArg::Parquet, false) => Format::Parquet,
        (FormatArg::Parquet, true) => Format::ParquetConnections,
        (
            diagram @ (FormatArg::Ladder
            | FormatArg::Mermaid
            | FormatArg::Svg
            | FormatArg::Html
            | FormatArg::Explain),
            true,
        ) => {
            eprintln!(
                "synfin: --summary is for the table and jsonl formats, not {}; \
                 --format html shows the summary with the diagrams",
                format!("{diagram:?}").to_lowercase()
            );
            return ExitCode::from(EXIT_INPUT);
        }
    };
    if let Err(e) = output_folder(format, args.output.as_deref()) {
        eprintln!("synfin: {e}");
        return ExitCode::from(EXIT_INPUT);
    }
    let (captures, missing) = inputs::expand(&args.captures);
    for e in &missing {
        eprintln!("synfin: {e}");
    }
    // A folder or a pattern stands for several captures, however many it holds.
    let several = captures.len() > 1 || captures.len() != args.captures.len();
    args.captures = captures;
    let stdout = io::stdout();
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        // https://no-color.org: any non-empty NO_COLOR turns colour off.
        ColorArg::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    // A terminal, or a live capture, gets each line as it is written.
    let out: Box<dyn Write> = if stdout.is_terminal() || args.live.is_some() {
        Box::new(io::LineWriter::new(stdout.lock()))
    } else {
        widen_pipe(&stdout);
        Box::new(BufWriter::with_capacity(64 * 1024, stdout.lock()))
    };
    let limits = Limits {
        idle_timeout_ns: (args.idle_timeout > 0)
            .then(|| args.idle_timeout.saturating_mul(1_000_000_000)),
        max_conns: args.max_conns,
        ..Limits::default()
    };
    let cores = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    // Tables cost CPU per line and parallelise well; JSON lines are output-bound, and
    // programs reading them want them streamed, so those are read one capture at a time.
    let streamed = matches!(
        format,
        Format::Jsonl | Format::JsonlConnections | Format::Zeek | Format::ZeekJson
    );
    let in_parallel = several && cores > 1 && !streamed && !format.is_document();
    let view = View {
        filter: Filter {
            conns: args.conn,
            ports: args.port,
            hosts: args.host,
            roles: args.role,
            connections: ConnPick {
                problems: args.problems,
                states: args.state,
                handshakes: args.handshake,
                teardowns: args.teardown,
                closed_by: args.closed_by,
                flags: args.flag.iter().fold(0, |all, f| all | f),
            },
        },
        absolute: args.abs,
        full: args.full,
        color,
        time: match args.time {
            TimeArg::Rel => TimeShown::Relative,
            TimeArg::Abs => TimeShown::Absolute,
            TimeArg::Delta => TimeShown::Delta,
        },
        width: args.width.map(usize::from).or_else(|| {
            stdout
                .is_terminal()
                .then(|| console::Term::stdout().size_checked())
                .flatten()
                .map(|(_rows, columns)| usize::from(columns))
        }),
        live: args.live.is_some(),
        lang: LangArg::chosen(args.lang),
        output: args.output,
        partition: args.partition,
        spare_core: cores > 1 && !in_parallel,
    };
    if let Some(iface) = &args.live {
        let req = live::Request {
            iface,
            filter: args.filter.as_deref(),
            duration: args.duration,
        };
        let mut printer = Printer::with_view(format, out, view);
        let result = live::run(&req, limits, &mut printer).and_then(|status| {
            printer.finish()?;
            printer.into_inner().flush()?;
            Ok(status)
        });
        return exit(result);
    }
    let result = if in_parallel {
        parallel::run(
            &args.captures,
            cores,
            |path, spool| {
                let mut printer = Printer::with_view(format, spool, view.clone());
                let mut err = String::new();
                let status = capture(path, true, limits, &mut printer, &mut err);
                (printer.into_inner(), err, status)
            },
            out,
        )
    } else {
        sequential(&args.captures, several, format, view, limits, out)
    };
    let missed = if missing.is_empty() {
        EXIT_OK
    } else {
        EXIT_INPUT
    };
    exit(result.map(|status| status.max(missed)))
}

fn exit(result: io::Result<u8>) -> ExitCode {
    match result {
        Ok(status) => ExitCode::from(status),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("synfin: writing output: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// One capture after the other, each streamed as it is read.
fn sequential(
    captures: &[String],
    several: bool,
    format: Format,
    view: View,
    limits: Limits,
    out: Box<dyn Write>,
) -> io::Result<u8> {
    let mut printer = Printer::with_view(format, out, view);
    let mut status = EXIT_OK;
    for path in captures {
        let mut err = String::new();
        let result = capture(path, several, limits, &mut printer, &mut err);
        eprint!("{err}");
        status = status.max(result?);
    }
    printer.finish()?;
    printer.into_inner().flush()?;
    Ok(status)
}

/// `-o DIR` goes with `--format parquet`, which needs it; the folder is made, and must
/// take files.
fn output_folder(format: Format, dir: Option<&std::path::Path>) -> Result<(), String> {
    let parquet = matches!(format, Format::Parquet | Format::ParquetConnections);
    match (parquet, dir) {
        (false, None) => Ok(()),
        (false, Some(_)) => Err("-o DIR is for --format parquet".to_string()),
        (true, None) => {
            Err("--format parquet writes files: name their folder with -o DIR".to_string())
        }
        (true, Some(dir)) => std::fs::create_dir_all(dir)
            .and_then(|()| tempfile::tempfile_in(dir).map(drop))
            .map_err(|e| format!("{}: cannot write there: {e}", dir.display())),
    }
}

pub(crate) fn open(path: &str) -> Result<CaptureReader, CaptureError> {
    open_with(path, false).map(|(reader, _)| reader)
}

/// Opens a capture; with `progress`, its bytes are counted into a progress line (which the
/// caller clears at the end).
fn open_with(
    path: &str,
    progress: bool,
) -> Result<(CaptureReader, Option<ProgressBar>), CaptureError> {
    let (src, size): (Box<dyn Read>, Option<u64>) = if path == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(path)?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    if !progress {
        return Ok((CaptureReader::new(src)?, None));
    }
    let (counted, bar) = progress::Counted::new(src, size);
    Ok((CaptureReader::new(Box::new(counted))?, Some(bar)))
}

/// Analyses one capture; returns its exit status, or an output error.
fn capture<W: Write>(
    path: &str,
    several: bool,
    limits: Limits,
    printer: &mut Printer<W>,
    err: &mut String,
) -> io::Result<u8> {
    // Several captures at once would draw over each other's lines.
    let at_end = matches!(
        printer.format(),
        Format::Summary | Format::Svg | Format::Html
    );
    let progress = !several && progress::wanted(at_end);
    let shown = if path == "-" { "<stdin>" } else { path };
    let (reader, bar) = match open_with(path, progress) {
        Ok(opened) => opened,
        Err(e) => {
            let _ = writeln!(err, "synfin: {shown}: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    printer.begin(&Source {
        path: shown,
        bytes: (path != "-")
            .then(|| std::fs::metadata(path).ok())
            .flatten()
            .map(|m| m.len()),
        several,
    })?;
    let outcome = pipeline::run(reader, limits, printer);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    printer.end()?;
    if let Some(nothing) = printer.filtered_out() {
        let _ = writeln!(err, "synfin: {shown}: {nothing}");
    }
    Ok(report(shown, &outcome, err))
}

/// Says on stderr what the records cannot: skipped frames, oddities, the fault that
/// stopped reading.
fn report(path: &str, outcome: &Outcome, err: &mut String) -> u8 {
    for warning in &outcome.warnings {
        let _ = writeln!(err, "synfin: {path}: warning: {warning}");
    }
    if let Some(skipped) = outcome.skipped_summary() {
        let _ = writeln!(err, "synfin: {path}: {skipped}");
    }
    let flushed = outcome.flushed;
    if flushed.idle + flushed.table_full > 0 {
        let _ = writeln!(
            err,
            "synfin: {path}: {} connections reported before their end ({} idle past --idle-timeout, {} over --max-conns)",
            flushed.idle + flushed.table_full,
            flushed.idle,
            flushed.table_full
        );
    }
    match &outcome.stopped_by {
        None => EXIT_OK,
        Some(e) => {
            let _ = writeln!(
                err,
                "synfin: {path}: {e}; results above cover the frames before it"
            );
            EXIT_PROBLEM
        }
    }
}

fn role(text: &str) -> Result<RolePick, String> {
    RolePick::parse(text).ok_or_else(|| {
        let names: Vec<&str> = RolePick::names().collect();
        format!("unknown role; one of: {}", names.join(", "))
    })
}

/// A positive number of seconds, fractions allowed.
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text.parse().map_err(|e| format!("{e}"))?;
    std::time::Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "must be a positive number of seconds".to_string())
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Output into a pipe gets a pipe of 1 MiB (Linux lets any user have one that large) where
/// it had 64 KiB: a flood's summary is 166 MB, and each 64 KiB of it waited for the reader
/// to take it (`synfin --summary FLOOD` read through a pipe, alternated with the 1M-packet
/// capture: 2.61 -> 1.98 times its time). Anything else (a file, a pipe that may not grow)
/// is left as it is.
fn widen_pipe(out: &io::Stdout) {
    #[cfg(target_os = "linux")]
    let _ = rustix::pipe::fcntl_setpipe_size(out, 1 << 20);
    #[cfg(not(target_os = "linux"))]
    let _ = out;
}
