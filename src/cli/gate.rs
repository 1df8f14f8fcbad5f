//! `synfin check [RULES] --capture IFACE -- CMD [ARGS…]`: capture while a command runs, then
//! check what was captured. The capture is proven to receive before CMD starts and drained
//! after it ends (`capture::live`); it goes to a file as it arrives, never into memory.

use std::ffi::OsString;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use synfin::capture::live::{self, Live, LiveError, Mark, Probe, Recorded, Seen, Tool};
use synfin::check::{Failure, Why};

use super::{EXIT_INPUT, EXIT_PROBLEM};

/// How often a probe is sent again while waiting for it.
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// Without a probe (an interface other than loopback): how long to let in-flight packets
/// arrive after CMD ends.
const QUIET: Duration = Duration::from_millis(500);

/// Where the capture goes: the user's file, or a temporary one kept only on failure.
enum Keep {
    Asked(PathBuf),
    Temporary(tempfile::NamedTempFile),
}

impl Keep {
    fn path(&self) -> PathBuf {
        match self {
            Keep::Asked(path) => path.clone(),
            Keep::Temporary(file) => file.path().to_path_buf(),
        }
    }
}

/// What to capture, and while what runs.
pub struct Request<'a> {
    pub iface: Option<&'a str>,
    pub filter: Option<&'a str>,
    /// Server ports checked: without a filter, only they are captured.
    pub ports: &'a [u16],
    pub write: Option<&'a PathBuf>,
    pub command: &'a [OsString],
}

/// A capture taken while the command ran, and how the command ended.
pub struct Captured {
    keep: Keep,
    ran: ExitStatus,
    shown_cmd: String,
    iface: String,
}

impl Captured {
    pub fn path(&self) -> String {
        self.keep.path().to_string_lossy().into_owned()
    }

    /// How messages and reports name the capture: `capture on lo`, the same from run to
    /// run (its file is said apart, when it is kept).
    pub fn name(&self) -> String {
        format!("capture on {}", self.iface)
    }

    /// The command's failure, when it failed: a failure of the gate, in its report.
    pub fn failure(&self) -> Option<Failure> {
        (!self.ran.success()).then(|| {
            let why = Why::Command {
                command: self.shown_cmd.clone(),
                how: describe(self.ran),
            };
            Failure::new("command", why, Vec::new())
        })
    }

    /// The exit status, at least 1 when the command failed; the capture is kept, and its
    /// path said, when the check failed.
    pub fn finish(self, checked: u8) -> u8 {
        let status = if self.ran.success() {
            checked
        } else {
            checked.max(EXIT_PROBLEM)
        };
        if status != 0 {
            match self.keep {
                Keep::Temporary(file) => match file.keep() {
                    Ok((_, path)) => {
                        eprintln!("synfin check: the capture is kept in {}", path.display());
                    }
                    Err(e) => eprintln!("synfin check: cannot keep the capture: {e}"),
                },
                Keep::Asked(path) => {
                    eprintln!("synfin check: the capture is kept in {}", path.display());
                }
            }
        }
        status
    }
}

/// Captures while the command runs. Errors have been reported; the exit status is theirs.
pub fn capture_while(req: &Request) -> Result<Captured, u8> {
    let Some((program, program_args)) = req.command.split_first() else {
        return Err(EXIT_INPUT);
    };
    let shown_cmd = req
        .command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let iface = req.iface.unwrap_or(live::default_interface());
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("synfin check: {e}");
        EXIT_INPUT
    };
    let tool = Tool::find().ok_or_else(|| fail(&LiveError::NoTool))?;
    let (keep, file) = open_output(req.write).map_err(|e| fail(&e))?;
    let probe = if live::sees_loopback(iface) {
        Some(Probe::new().map_err(|e| fail(&format!("cannot send a probe on 127.0.0.1: {e}")))?)
    } else {
        None
    };
    let filter = capture_filter(req, probe.as_ref()).map_err(|e| fail(&e))?;
    let mut capture = Live::start(tool, iface, &filter).map_err(|e| fail(&e))?;
    let (seen_tx, seen) = mpsc::channel();
    let stream = capture.take_stream();
    let marker = probe.as_ref().map(Probe::marker);
    let recorder = std::thread::spawn(move || match stream {
        Some(stream) => live::record(stream, BufWriter::new(file), marker, &seen_tx)
            .map(|(recorded, _)| recorded),
        None => Err("the capture tool gave no stream".to_string()),
    });

    if let Err(e) = wait_until_receiving(&mut capture, probe.as_ref(), &seen, iface) {
        drop(capture);
        let _ = recorder.join();
        return Err(fail(&e));
    }
    // Ctrl-C (or a CI's cancel) while CMD runs stops CMD, not the gate: what was captured
    // is still drained, checked and kept.
    let _guard = survive_interrupts();
    let ran = Command::new(program).args(program_args).status();
    drain(probe.as_ref(), &seen);
    capture.interrupt();
    let recorded = recorder.join();
    let dropped = capture.finish();
    let ran = ran.map_err(|e| fail(&format!("cannot run {}: {e}", program.to_string_lossy())))?;
    let recorded = match recorded {
        Ok(recorded) => recorded.map_err(|e| fail(&e))?,
        Err(_) => return Err(fail(&"the capture's reader stopped unexpectedly")),
    };
    report_capture(&recorded, dropped, iface);
    Ok(Captured {
        keep,
        ran,
        shown_cmd,
        iface: iface.to_string(),
    })
}

fn open_output(asked: Option<&PathBuf>) -> Result<(Keep, File), String> {
    match asked {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
            Ok((Keep::Asked(path.clone()), file))
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("synfin-capture-")
                .suffix(".pcap")
                .tempfile()
                .map_err(|e| format!("cannot create a temporary capture file: {e}"))?;
            let file = temp
                .as_file()
                .try_clone()
                .map_err(|e| format!("cannot create a temporary capture file: {e}"))?;
            Ok((Keep::Temporary(temp), file))
        }
    }
}

/// The user's filter, or `tcp` (`tcp port P` for `--port P`), and the probe's.
fn capture_filter(req: &Request, probe: Option<&Probe>) -> Result<String, String> {
    let traffic = match (req.filter, req.ports) {
        (Some(filter), _) => filter.to_string(),
        (None, []) => "tcp".to_string(),
        (None, ports) => ports
            .iter()
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or "),
    };
    Ok(match probe {
        Some(probe) => format!(
            "({traffic}) or {}",
            probe
                .filter()
                .map_err(|e| format!("the probe socket: {e}"))?
        ),
        None => traffic,
    })
}

/// Returns once the capture is proven to receive: the begin probe came back through it, or
/// (without a probe) the tool said it listens and its stream has begun.
fn wait_until_receiving(
    capture: &mut Live,
    probe: Option<&Probe>,
    seen: &mpsc::Receiver<Seen>,
    iface: &str,
) -> Result<(), LiveError> {
    let deadline = Instant::now() + live::READY_TIMEOUT;
    let (mut listening, mut header) = (false, false);
    while Instant::now() < deadline {
        match probe {
            Some(probe) => {
                probe.send(Mark::Begin)?;
                if seen.recv_timeout(PROBE_EVERY) == Ok(Seen::Probe(Mark::Begin)) {
                    return Ok(());
                }
            }
            None => {
                listening |= capture.listening(PROBE_EVERY);
                header |= seen.try_recv() == Ok(Seen::Header);
                if listening && header {
                    return Ok(());
                }
            }
        }
        if capture.exited() {
            return Err(capture.refusal());
        }
    }
    Err(LiveError::NotReady {
        tool: capture.tool().name(),
        iface: iface.to_string(),
    })
}

/// Waits until everything sent before now has come through the capture.
fn drain(probe: Option<&Probe>, seen: &mpsc::Receiver<Seen>) {
    let Some(probe) = probe else {
        std::thread::sleep(QUIET);
        return;
    };
    let deadline = Instant::now() + live::READY_TIMEOUT;
    while Instant::now() < deadline {
        if probe.send(Mark::End).is_err() {
            break;
        }
        let until = Instant::now() + PROBE_EVERY;
        while let Ok(got) = seen.recv_timeout(until.saturating_duration_since(Instant::now())) {
            if got == Seen::Probe(Mark::End) {
                return;
            }
        }
    }
    eprintln!(
        "synfin check: warning: the end probe did not come back; the capture may miss the \
         last packets"
    );
}

/// While it lives, SIGINT and SIGTERM no longer end synfin (they reach CMD, in the same
/// process group, and end it); dropped, they do again.
struct Interruptible(Option<std::sync::Arc<std::sync::atomic::AtomicBool>>);

impl Drop for Interruptible {
    fn drop(&mut self) {
        if let Some(default) = &self.0 {
            default.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

fn survive_interrupts() -> Interruptible {
    #[cfg(unix)]
    {
        // The signal's default action (ending synfin) runs only while this is true.
        let default = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let signals = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
        let registered = signals.into_iter().all(|signal| {
            signal_hook::flag::register_conditional_default(signal, default.clone()).is_ok()
        });
        if registered {
            return Interruptible(Some(default));
        }
        default.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    Interruptible(None)
}

fn report_capture(recorded: &Recorded, dropped: Option<u64>, iface: &str) {
    if let Some(n) = dropped.filter(|&n| n > 0) {
        eprintln!(
            "synfin check: warning: the kernel dropped {n} packet(s) on {iface}: losses the \
             check reports may not have happened"
        );
    }
    if recorded.packets == 0 {
        eprintln!("synfin check: the capture on {iface} holds no packet");
    }
}

fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}
