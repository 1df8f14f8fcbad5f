//! `synfin check CAPTURE...` (or `synfin check --capture IFACE -- CMD`, which captures
//! first): exit 0 when every expectation holds, 1 when one fails (each failure on a line of
//! stderr), 2 on usage or input errors; a one-line verdict on stdout.

use std::ffi::OsString;
use std::fmt::Display;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use synfin::annotate::{Limits, Side};
use synfin::check::policy::TeardownKind;
use synfin::check::{
    Allowance, CaptureVerdict, CountRange, Failure, Judge, Policy, golden, report,
};
use synfin::output::words::{EN, Words, fill, one_or_many};
use synfin::output::{Format, Printer, Source};
use synfin::pipeline;

use super::{EXIT_INPUT, EXIT_OK, EXIT_PROBLEM, LangArg, gate, open};

/// Judge every TCP connection of captures against a policy (default: at least one
/// connection, each with a complete handshake, an orderly close, no RST, no retransmission,
/// nothing left open), or compare their annotation with a stored expectation (--expect).
/// After `--`, a command to run while capturing: `synfin check --capture lo -- ./tests.sh`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Captures to check (pcap or pcapng); '-' reads stdin.
    #[arg(required_unless_present = "command", value_name = "CAPTURE")]
    captures: Vec<String>,

    /// Capture on this interface while the command after `--` runs, then check what was
    /// captured (with tcpdump or dumpcap, found on the PATH) [default: lo; lo0 on macOS].
    #[arg(long, value_name = "IFACE", num_args = 0..=1,
          default_missing_value = synfin::capture::live::default_interface(),
          requires = "command", help_heading = "Capturing")]
    capture: Option<String>,

    /// The capture filter, in tcpdump's syntax [default: tcp; tcp port P with --port P].
    #[arg(
        long,
        value_name = "BPF",
        requires = "command",
        help_heading = "Capturing"
    )]
    filter: Option<String>,

    /// Keep the capture in this pcap file (a failed check always keeps it, and says where).
    #[arg(
        long,
        value_name = "FILE",
        requires = "command",
        help_heading = "Capturing"
    )]
    write: Option<PathBuf>,

    /// The command to run while capturing, after `--`; its failure fails the check.
    #[arg(
        last = true,
        value_name = "CMD",
        conflicts_with = "captures",
        help_heading = "Capturing"
    )]
    command: Vec<OsString>,

    /// Rules from a TOML file (keys: allow, expect-conns, port, closed-by, teardown,
    /// max-rtt-ms, max-retransmissions, max-close-wait-ms, max-duration-ms); the options
    /// below add to or override it.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// Allow what the default forbids: reset, open (still open at the end), midstream
    /// (handshake before the capture), retransmission, empty (no connection at all).
    #[arg(long, value_name = "WHAT[,...]", value_delimiter = ',')]
    allow: Vec<Allowance>,

    /// The number of connections checked: 3, or a range such as 2..5 or 1.. [default: 1..]
    #[arg(long, value_name = "N|MIN..MAX")]
    expect_conns: Option<CountRange>,

    /// Check only connections to these server ports.
    #[arg(long, value_name = "PORT[,...]", value_delimiter = ',')]
    port: Vec<u16>,

    /// The side expected to close each connection.
    #[arg(long, value_enum)]
    closed_by: Option<CloserArg>,

    /// Accepted orderly closes (default four-way, three-way, simultaneous).
    #[arg(long, value_name = "KIND[,...]", value_delimiter = ',')]
    teardown: Vec<TeardownKind>,

    /// Longest acceptable handshake RTT, in milliseconds.
    #[arg(long, value_name = "MS")]
    max_rtt: Option<f64>,

    /// Retransmissions accepted per connection (default 0).
    #[arg(long, value_name = "N")]
    max_retransmissions: Option<u64>,

    /// Longest time an endpoint may sit in CLOSE_WAIT (its peer closed, its application had
    /// not), in milliseconds.
    #[arg(long, value_name = "MS")]
    max_close_wait: Option<f64>,

    /// Longest connection, first segment to last, in milliseconds.
    #[arg(long, value_name = "MS")]
    max_duration: Option<f64>,

    /// Compare the annotation (JSON lines, times left out) with this file instead.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,

    /// With --expect: write the current annotation to the file instead of comparing.
    #[arg(long, requires = "expect")]
    bless: bool,

    /// With --expect: compare times too, within this many seconds.
    #[arg(long, value_name = "SECS", requires = "expect")]
    time_tolerance: Option<f64>,

    /// With --expect: compare everything, the raw sequence numbers, the client's port and
    /// the capture times too (by default what differs on every capture of the same exchange
    /// is left out).
    #[arg(long, requires = "expect")]
    strict: bool,

    /// With --expect: fields not to compare (JSON names: win, analysis …).
    #[arg(
        long,
        value_name = "FIELD[,...]",
        value_delimiter = ',',
        requires = "expect"
    )]
    ignore: Vec<String>,

    /// Also write the verdicts as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// How the verdicts are printed on stdout.
    #[arg(long, value_enum, default_value_t = VerdictFormat::Text)]
    format: VerdictFormat,

    /// The language of the failure lines and the verdict: en or zh [default: from LC_ALL,
    /// LC_MESSAGES or LANG]; JSON lines and JUnit stay English.
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CloserArg {
    Client,
    Server,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum VerdictFormat {
    Text,
    Jsonl,
}

pub fn run(args: CheckArgs) -> u8 {
    if args.command.is_empty() {
        let captures: Vec<Input> = args.captures.iter().map(|p| Input::file(p)).collect();
        return verdict(&args, &captures, None);
    }
    // The server ports checked (the policy file's and the command line's) narrow the
    // capture when no filter is given; a policy that cannot be used stops before it.
    let ports = match policy(&args) {
        Ok(p) => p.port,
        Err(e) => {
            eprintln!("synfin check: {e}");
            return EXIT_INPUT;
        }
    };
    let captured = gate::capture_while(&gate::Request {
        iface: args.capture.as_deref(),
        filter: args.filter.as_deref(),
        ports: &ports,
        write: args.write.as_ref(),
        command: &args.command,
    });
    match captured {
        Ok(captured) => {
            // Named by the interface, not the temporary file: CI systems keep a report's
            // suites apart by name from run to run.
            let input = Input {
                path: captured.path(),
                name: captured.name(),
            };
            let status = verdict(&args, &[input], captured.failure());
            captured.finish(status)
        }
        Err(status) => status,
    }
}

/// The check of these captures, its verdict printed; the exit status. `command`: how the
/// command run while capturing failed, a failure of the (one) capture.
fn verdict(args: &CheckArgs, captures: &[Input], command: Option<Failure>) -> u8 {
    let mut stdout = io::stdout().lock();
    let result = match &args.expect {
        Some(expect) => {
            let status = golden_mode(args, captures, expect, &mut stdout);
            match command {
                Some(failure) => {
                    eprintln!("synfin check: {failure}");
                    status.map(|s| s.max(EXIT_PROBLEM))
                }
                None => status,
            }
        }
        None => policy_mode(args, captures, command, &mut stdout),
    };
    match result.and_then(|status| stdout.flush().map(|()| status)) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("synfin check: writing the verdict: {e}");
            EXIT_INPUT
        }
    }
}

fn policy(args: &CheckArgs) -> Result<Policy, String> {
    let base = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| e.to_string())?,
        None => Policy::default(),
    };
    Ok(base.merge(Policy {
        allow: args.allow.clone(),
        expect_conns: args.expect_conns,
        port: args.port.clone(),
        closed_by: args.closed_by.map(|c| match c {
            CloserArg::Client => Side::Client,
            CloserArg::Server => Side::Server,
        }),
        teardown: args.teardown.clone(),
        max_rtt_ms: args.max_rtt,
        max_retransmissions: args.max_retransmissions,
        max_close_wait_ms: args.max_close_wait,
        max_duration_ms: args.max_duration,
    }))
}

/// A capture to check: where it is, and how messages and reports name it.
pub(super) struct Input {
    path: String,
    name: String,
}

impl Input {
    fn file(path: &str) -> Input {
        Input {
            path: path.to_string(),
            name: if path == "-" { "<stdin>" } else { path }.to_string(),
        }
    }

    /// The capture opened, or `None` after saying why not.
    fn reader(&self) -> Option<synfin::capture::CaptureReader> {
        open(&self.path)
            .map_err(|e| eprintln!("synfin check: {}: {e}", self.name))
            .ok()
    }
}

fn policy_mode(
    args: &CheckArgs,
    captures: &[Input],
    mut command: Option<Failure>,
    stdout: &mut impl Write,
) -> io::Result<u8> {
    let policy = match policy(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synfin check: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    let words = LangArg::chosen(args.lang).words();
    let mut status = EXIT_OK;
    let mut results: Vec<(String, CaptureVerdict)> = Vec::new();
    for input in captures {
        let Some(reader) = input.reader() else {
            status = status.max(EXIT_INPUT);
            continue;
        };
        let name = input.name.as_str();
        let mut judge = Judge::new(&policy);
        let outcome = match pipeline::run(reader, Limits::default(), &mut judge) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("synfin check: {name}: {e}");
                status = status.max(EXIT_INPUT);
                continue;
            }
        };
        let mut verdict = judge.finish();
        verdict.skipped = outcome.skipped_summary();
        verdict.capture_failures.extend(command.take());
        for line in report::failure_lines(name, &verdict, words) {
            eprintln!("synfin check: {line}");
        }
        if let Some(e) = &outcome.stopped_by {
            eprintln!("synfin check: {name}: {e}; only the frames before it were checked");
            status = status.max(EXIT_PROBLEM);
        }
        if !verdict.passed() {
            status = status.max(EXIT_PROBLEM);
        }
        if args.format == VerdictFormat::Jsonl {
            for line in report::json_lines(name, &verdict) {
                writeln!(stdout, "{line}")?;
            }
        }
        results.push((name.to_string(), verdict));
    }
    let total: usize = results.iter().map(|(_, v)| v.connections.len()).sum();
    let failed: usize = results.iter().map(|(_, v)| v.failed()).sum();
    let expectations: usize = results.iter().map(|(_, v)| v.capture_failures.len()).sum();
    let line = |w: &Words| {
        let counts = [
            ("n", &total as &dyn Display),
            ("passed", &(total - failed)),
            ("failed", &failed),
        ];
        let mut line = fill(one_or_many(&w.check.verdict, total as u64), &counts);
        if expectations > 0 {
            line.push_str(&fill(w.check.expectations, &[("n", &expectations)]));
        }
        line
    };
    match args.format {
        VerdictFormat::Text => writeln!(stdout, "{}", line(words))?,
        VerdictFormat::Jsonl => {
            writeln!(
                stdout,
                "{}",
                serde_json::json!({"type": "check", "connections": total,
                    "passed": total - failed, "failed": failed,
                    "capture_expectations_failed": expectations, "verdict": line(&EN)})
            )?;
        }
    }
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, report::junit(&results))
    {
        eprintln!("synfin check: {}: cannot write: {e}", path.display());
        return Ok(EXIT_INPUT);
    }
    Ok(status)
}

/// The JSON lines `synfin --format jsonl CAPTURE...` would print, and the worst status.
fn annotate(captures: &[Input]) -> (Vec<u8>, u8) {
    let mut printer = Printer::new(Format::Jsonl, Vec::new());
    let mut status = EXIT_OK;
    for input in captures {
        let Some(reader) = input.reader() else {
            status = status.max(EXIT_INPUT);
            continue;
        };
        let name = input.name.as_str();
        let _ = printer.begin(&Source {
            path: &input.path,
            bytes: None,
            several: captures.len() > 1,
        });
        match pipeline::run(reader, Limits::default(), &mut printer) {
            Ok(outcome) => {
                if let Some(e) = outcome.stopped_by {
                    eprintln!("synfin check: {name}: {e}");
                    status = status.max(EXIT_PROBLEM);
                }
            }
            Err(e) => {
                eprintln!("synfin check: {name}: {e}");
                status = status.max(EXIT_INPUT);
            }
        }
        let _ = printer.end();
    }
    (printer.into_inner(), status)
}

fn golden_mode(
    args: &CheckArgs,
    captures: &[Input],
    expect: &PathBuf,
    stdout: &mut impl Write,
) -> io::Result<u8> {
    let (actual, status) = annotate(captures);
    if status == EXIT_INPUT {
        return Ok(status);
    }
    if args.bless {
        if let Err(e) = std::fs::write(expect, &actual) {
            eprintln!("synfin check: {}: cannot write: {e}", expect.display());
            return Ok(EXIT_INPUT);
        }
        writeln!(stdout, "check: wrote {}", expect.display())?;
        return Ok(status);
    }
    let expected = match std::fs::read_to_string(expect) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "synfin check: {}: cannot read: {e} (--bless writes it)",
                expect.display()
            );
            return Ok(EXIT_INPUT);
        }
    };
    let diffs = golden::compare(
        &expected,
        &String::from_utf8_lossy(&actual),
        &golden::Compared {
            tolerance: args.time_tolerance,
            strict: args.strict,
            ignore: args.ignore.clone(),
        },
    );
    for d in &diffs {
        eprintln!("synfin check: {d}");
    }
    if diffs.is_empty() {
        writeln!(stdout, "check: annotation matches {}", expect.display())?;
        Ok(status)
    } else {
        writeln!(
            stdout,
            "check: annotation differs from {}",
            expect.display()
        )?;
        Ok(EXIT_PROBLEM)
    }
}
