//! `synfin --live IFACE`: the stories of a live capture as segments arrive, until Ctrl-C or
//! `--duration`. The system's tcpdump (or dumpcap) captures (`capture::live`); its pcap
//! stream runs through the same layers as a file, and connections are printed as they
//! finish.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use synfin::annotate::Limits;
use synfin::capture::live::{self, Live, LiveError, Tool};
use synfin::output::{Printer, Source};
use synfin::pipeline;

use super::{EXIT_INPUT, report};

pub struct Request<'a> {
    pub iface: &'a str,
    pub filter: Option<&'a str>,
    pub duration: Option<Duration>,
}

pub fn run<W: Write>(req: &Request, limits: Limits, printer: &mut Printer<W>) -> io::Result<u8> {
    let Some(tool) = Tool::find() else {
        eprintln!("synfin: {}", LiveError::NoTool);
        return Ok(EXIT_INPUT);
    };
    let filter = req.filter.unwrap_or("tcp");
    let mut capture = match Live::start(tool, req.iface, filter) {
        Ok(capture) => capture,
        Err(e) => {
            eprintln!("synfin: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    if !capture.listening(live::READY_TIMEOUT) {
        let why = if capture.exited() {
            capture.refusal()
        } else {
            LiveError::NotReady {
                tool: capture.tool().name(),
                iface: req.iface.to_string(),
            }
        };
        eprintln!("synfin: {why}");
        return Ok(EXIT_INPUT);
    }
    let Some(stream) = capture.take_stream() else {
        eprintln!("synfin: the capture tool gave no stream");
        return Ok(EXIT_INPUT);
    };
    let id = capture.id();
    if let Err(e) = stop_on_signal(id) {
        eprintln!("synfin: cannot take Ctrl-C over: {e}");
        return Ok(EXIT_INPUT);
    }
    if let Some(duration) = req.duration {
        std::thread::spawn(move || {
            std::thread::sleep(duration);
            live::interrupt(id);
        });
    }
    eprintln!(
        "synfin: capturing on {} ({}, filter `{filter}`); {}",
        req.iface,
        capture.tool().name(),
        match req.duration {
            Some(d) => format!("for {} s, or until Ctrl-C", d.as_secs_f64()),
            None => "Ctrl-C stops".to_string(),
        }
    );
    let shown = format!("{} (live)", req.iface);
    printer.begin(&Source {
        path: &shown,
        bytes: None,
        several: false,
    })?;
    let outcome = pipeline::run_live(stream, limits, printer)?;
    printer.end()?;
    let mut err = String::new();
    if let Some(nothing) = printer.filtered_out() {
        let _ = writeln!(err, "synfin: {shown}: {nothing}");
    }
    let status = report(&shown, &outcome, &mut err);
    if let Some(n) = capture.finish().filter(|&n| n > 0) {
        let _ = writeln!(err, "synfin: {shown}: the kernel dropped {n} packet(s)");
    }
    eprint!("{err}");
    Ok(status)
}

/// Ctrl-C (or SIGTERM) stops the capture tool, which ends its stream; synfin itself goes on
/// to print what it read. (The tool, in a process group of its own, does not get a
/// terminal's Ctrl-C: synfin passes it on.)
fn stop_on_signal(id: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        std::thread::spawn(move || {
            for _ in signals.forever() {
                live::interrupt(id);
            }
        });
    }
    #[cfg(not(unix))]
    let _ = id;
    Ok(())
}
