//! Live capture through the system's own capture tool: `tcpdump` (or Wireshark's `dumpcap`)
//! writes a pcap stream to a pipe, which synfin reads as it reads a file. No system library
//! is linked, so the default build needs none; the tool is found on the PATH at run time.
//!
//! Readiness is proven, not slept on: on a loopback interface (or `any`) a probe, a UDP
//! datagram carrying a random token, is sent to 127.0.0.1 until it comes back through the
//! capture; a second probe at the end shows that everything sent before it has been
//! delivered. Elsewhere the tool's own "listening" line is the signal.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;

use pcap_file::pcap::{PcapReader, PcapWriter};

/// The program that captures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    pub path: PathBuf,
    kind: ToolKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ToolKind {
    Tcpdump,
    Dumpcap,
}

impl Tool {
    /// `SYNFIN_CAPTURE_TOOL` when set (its name says which dialect), else `tcpdump`, else
    /// `dumpcap`, on the PATH or in the system folders that `sudo` leaves off it.
    pub fn find() -> Option<Tool> {
        if let Some(path) = std::env::var_os("SYNFIN_CAPTURE_TOOL").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            return Some(Tool {
                kind: Tool::kind_of(&path),
                path,
            });
        }
        ["tcpdump", "dumpcap"].into_iter().find_map(|name| {
            let path = on_path(name)?;
            Some(Tool {
                kind: Tool::kind_of(&path),
                path,
            })
        })
    }

    fn kind_of(path: &Path) -> ToolKind {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
        if name.is_some_and(|n| n.contains("dumpcap")) {
            ToolKind::Dumpcap
        } else {
            ToolKind::Tcpdump
        }
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            ToolKind::Tcpdump => "tcpdump",
            ToolKind::Dumpcap => "dumpcap",
        }
    }

    /// Arguments that write a pcap stream of `iface` to stdout, each packet as it comes.
    fn args(&self, iface: &str, filter: &str) -> Vec<OsString> {
        let args: &[&str] = match self.kind {
            // -U: write each packet at once; --immediate-mode: the kernel hands each over at
            // once too; -n: no name lookups; nanosecond times, as pcapng would keep them.
            ToolKind::Tcpdump => &[
                "-i",
                iface,
                "-U",
                "--immediate-mode",
                "-n",
                "-s",
                "0",
                "--time-stamp-precision",
                "nano",
                "-w",
                "-",
                filter,
            ],
            // -P: pcap, not pcapng; -q: no running count on stderr.
            ToolKind::Dumpcap => &["-i", iface, "-f", filter, "-P", "-q", "-w", "-"],
        };
        args.iter().map(OsString::from).collect()
    }

    /// The line the tool writes once it captures.
    fn is_listening(&self, line: &str) -> bool {
        let line = line
            .trim_start_matches(self.name())
            .trim_start_matches(": ");
        match self.kind {
            ToolKind::Tcpdump => line.starts_with("listening on"),
            ToolKind::Dumpcap => line.starts_with("Capturing on"),
        }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The interface every platform names its loopback by.
pub fn default_interface() -> &'static str {
    if cfg!(target_os = "linux") {
        "lo"
    } else {
        "lo0"
    }
}

/// Whether a probe sent to 127.0.0.1 passes through `iface`: loopback interfaces and
/// Linux's `any`.
pub fn sees_loopback(iface: &str) -> bool {
    if iface == "any" {
        return true;
    }
    // Linux: IFF_LOOPBACK (0x8) in the interface's flags.
    let flags = std::fs::read_to_string(format!("/sys/class/net/{iface}/flags"))
        .ok()
        .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok());
    match flags {
        Some(flags) => flags & 0x8 != 0,
        None => iface.starts_with("lo"),
    }
}

/// Why a capture could not start or went wrong, in a line for the user.
#[derive(Debug)]
pub enum LiveError {
    NoTool,
    Spawn(PathBuf, io::Error),
    /// The tool stopped before it captured: its last words, and what to do about them.
    Refused {
        tool: &'static str,
        said: String,
    },
    NotReady {
        tool: &'static str,
        iface: String,
    },
    Io(io::Error),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::NoTool => f.write_str(
                "capturing needs tcpdump or dumpcap on the PATH (Debian: apt-get install tcpdump; \
                 macOS has tcpdump), or SYNFIN_CAPTURE_TOOL naming one",
            ),
            LiveError::Spawn(path, e) => write!(f, "cannot start {}: {e}", path.display()),
            LiveError::Refused { tool, said } => {
                write!(f, "{tool} could not capture: {said}")?;
                if let Some(hint) = hint(tool, said) {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            LiveError::NotReady { tool, iface } => write!(
                f,
                "{tool} on {iface} did not show that it captures within {} s (on loopback: \
                 the probe packet sent to 127.0.0.1 did not come back)",
                READY_TIMEOUT.as_secs()
            ),
            LiveError::Io(e) => write!(f, "reading the capture: {e}"),
        }
    }
}

/// What to do about a tool's complaint, when it is a common one.
fn hint(tool: &str, said: &str) -> Option<String> {
    let said = said.to_lowercase();
    if said.contains("permission") || said.contains("not permitted") {
        return Some(if cfg!(target_os = "macos") {
            "capturing needs read access to /dev/bpf*: run as root (sudo), or install \
             Wireshark's ChmodBPF to give your group that access"
                .to_string()
        } else {
            format!(
                "capturing needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN: run \
                 with sudo, or once `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v \
                 {tool})`"
            )
        });
    }
    if said.contains("no such device") || said.contains("doesn't exist") {
        return Some(format!(
            "no such interface; `{tool} -D` lists those it can capture on"
        ));
    }
    None
}

impl From<io::Error> for LiveError {
    fn from(e: io::Error) -> Self {
        LiveError::Io(e)
    }
}

/// How long the capture may take to show that it receives.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the tool wrote on stderr, line by line.
enum Said {
    Listening,
    Line(String),
}

/// A running capture: the tool's process, its pcap stream, and its stderr read by a thread.
pub struct Live {
    tool: Tool,
    child: Child,
    stdout: Option<ChildStdout>,
    said: mpsc::Receiver<Said>,
    stderr: Option<JoinHandle<()>>,
    lines: Vec<String>,
}

impl Live {
    /// Starts `tool` capturing on `iface` through the BPF `filter`.
    pub fn start(tool: Tool, iface: &str, filter: &str) -> Result<Live, LiveError> {
        let mut command = Command::new(&tool.path);
        command
            .args(tool.args(iface, filter))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // In a process group of its own, a terminal's Ctrl-C does not reach the tool: synfin
        // stops it once what it captured has been read (`interrupt`).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .map_err(|e| LiveError::Spawn(tool.path.clone(), e))?;
        let stdout = child.stdout.take();
        let (tx, said) = mpsc::channel();
        let stderr = child.stderr.take().map(|stderr| {
            let tool = tool.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let message = if tool.is_listening(&line) {
                        Said::Listening
                    } else {
                        Said::Line(line)
                    };
                    if tx.send(message).is_err() {
                        break;
                    }
                }
            })
        });
        Ok(Live {
            tool,
            child,
            stdout,
            said,
            stderr,
            lines: Vec::new(),
        })
    }

    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    /// The pcap stream, once.
    pub fn take_stream(&mut self) -> Option<ChildStdout> {
        self.stdout.take()
    }

    /// Whether the tool said it listens, waiting at most `wait`; lines it said meanwhile
    /// are kept for `refusal`.
    pub fn listening(&mut self, wait: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.said.recv_timeout(left) {
                Ok(Said::Listening) => return true,
                Ok(Said::Line(line)) => self.lines.push(line),
                Err(_) => return false,
            }
        }
    }

    /// Whether the tool has stopped on its own.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The error for a tool that stopped before capturing: what it said.
    pub fn refusal(&mut self) -> LiveError {
        self.wait_for_end();
        let prefix = format!("{}: ", self.tool.name());
        let said = self
            .lines
            .iter()
            .map(|l| l.trim().trim_start_matches(prefix.as_str()))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        LiveError::Refused {
            tool: self.tool.name(),
            said: if said.is_empty() {
                "it exited without a word".to_string()
            } else {
                said
            },
        }
    }

    /// Waits for the tool to end, and keeps everything it said.
    fn wait_for_end(&mut self) {
        let _ = self.child.wait();
        if let Some(handle) = self.stderr.take() {
            let _ = handle.join();
        }
        while let Ok(message) = self.said.try_recv() {
            if let Said::Line(line) = message {
                self.lines.push(line);
            }
        }
    }

    /// Asks the tool to stop as Ctrl-C would, so it flushes and reports its counts.
    pub fn interrupt(&mut self) {
        if !interrupt(self.child.id()) {
            let _ = self.child.kill();
        }
    }

    /// The tool's process id, for `interrupt` from another thread.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the tool to end; returns the packets the kernel dropped, when it says.
    pub fn finish(mut self) -> Option<u64> {
        self.wait_for_end();
        self.lines.iter().find_map(|line| dropped(line))
    }
}

/// Sends process `id` the signal Ctrl-C sends; whether it went.
pub fn interrupt(id: u32) -> bool {
    #[cfg(unix)]
    {
        let pid = i32::try_from(id)
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        pid.is_some_and(|pid| {
            rustix::process::kill_process(pid, rustix::process::Signal::INT).is_ok()
        })
    }
    #[cfg(not(unix))]
    {
        let _ = id;
        false
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The kernel's drop count from a tool's closing statistics: tcpdump's "N packets dropped
/// by kernel", dumpcap's "Packets received/dropped on interface 'lo': R/D (…)".
fn dropped(line: &str) -> Option<u64> {
    if let Some(n) = line.strip_suffix(" packets dropped by kernel") {
        return n.trim().parse().ok();
    }
    let (_, counts) = line.split_once("received/dropped on interface")?;
    let (_, counts) = counts.split_once(": ")?;
    let counts = counts.split_whitespace().next()?;
    counts.split_once('/')?.1.parse().ok()
}

/// A probe: UDP datagrams a socket sends to itself on 127.0.0.1, each carrying a random
/// token and whether it marks the beginning or the end of the capture.
pub struct Probe {
    socket: UdpSocket,
    marker: Marker,
}

/// Tells probe packets by their token.
#[derive(Clone, Copy, Debug)]
pub struct Marker {
    token: [u8; 16],
}

/// Which probe a packet carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Begin,
    End,
}

/// What a recording has met: the stream's header (the tool opened the interface), a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Header,
    Probe(Mark),
}

impl Probe {
    pub fn new() -> io::Result<Probe> {
        let socket = UdpSocket::bind(("127.0.0.1", 0))?;
        socket.connect(socket.local_addr()?)?;
        // Never waits: a probe that cannot go now is sent again shortly anyway.
        socket.set_nonblocking(true)?;
        Ok(Probe {
            socket,
            marker: Marker {
                token: random_token(),
            },
        })
    }

    /// The BPF expression that lets the probe through.
    pub fn filter(&self) -> io::Result<String> {
        let port = self.socket.local_addr()?.port();
        Ok(format!("(udp and host 127.0.0.1 and port {port})"))
    }

    pub fn send(&self, mark: Mark) -> io::Result<()> {
        let mut payload = self.marker.token.to_vec();
        payload.push(mark as u8);
        self.socket.send(&payload)?;
        // Read our own datagrams back so they never fill the socket's buffer.
        let mut sink = [0u8; 64];
        while self.socket.recv(&mut sink).is_ok() {}
        Ok(())
    }

    pub fn marker(&self) -> Marker {
        self.marker
    }
}

impl Marker {
    /// Which probe, if any, a captured packet carries.
    pub fn mark(&self, packet: &[u8]) -> Option<Mark> {
        // A probe packet is small (link header, IP and UDP headers, 17 bytes of payload):
        // a capture's large packets are not searched.
        if packet.len() > 160 {
            return None;
        }
        let at = packet
            .windows(self.token.len())
            .position(|w| w == self.token)?;
        match packet.get(at + self.token.len()) {
            Some(0) => Some(Mark::Begin),
            Some(1) => Some(Mark::End),
            _ => None,
        }
    }
}

/// What a recording did: the packets it wrote (probes left out), and whether it saw the
/// end probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub packets: u64,
    pub ended: bool,
}

/// Copies a tool's pcap stream to `out` as it arrives, leaving the probes out and telling
/// `seen` about its header and each probe met. After the end probe nothing more is written, but the stream
/// is read to its end so that the tool never blocks on a full pipe.
pub fn record<W: Write>(
    stream: impl Read,
    out: W,
    marker: Option<Marker>,
    seen: &mpsc::Sender<Seen>,
) -> Result<(Recorded, W), String> {
    let mut reader = PcapReader::new(stream).map_err(|e| format!("the capture's stream: {e}"))?;
    let _ = seen.send(Seen::Header);
    let mut writer = PcapWriter::with_header(out, reader.header())
        .map_err(|e| format!("writing the capture: {e}"))?;
    let mut done = Recorded::default();
    while let Some(packet) = reader.next_packet() {
        let packet = match packet {
            Ok(packet) => packet,
            // What follows the end probe is not kept, whole or not.
            Err(_) if done.ended => break,
            Err(e) => return Err(format!("the capture's stream: {e}")),
        };
        match marker.and_then(|m| m.mark(&packet.data)) {
            Some(mark) => {
                done.ended |= mark == Mark::End;
                let _ = seen.send(Seen::Probe(mark));
            }
            None if !done.ended => {
                writer
                    .write_packet(&packet)
                    .map_err(|e| format!("writing the capture: {e}"))?;
                done.packets += 1;
            }
            None => {}
        }
    }
    let mut out = writer.into_writer();
    out.flush()
        .map_err(|e| format!("writing the capture: {e}"))?;
    Ok((done, out))
}

/// 16 bytes no other packet carries: std's per-process random hash keys, mixed with the
/// time and the process id.
fn random_token() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    let mut token = [0u8; 16];
    for (i, half) in token.chunks_mut(8).enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(i);
        hasher.write_u32(std::process::id());
        if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            hasher.write_u128(now.as_nanos());
        }
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_drop_counts_are_read() {
        assert_eq!(dropped("0 packets dropped by kernel"), Some(0));
        assert_eq!(dropped("12 packets dropped by kernel"), Some(12));
        assert_eq!(
            dropped(
                "Packets received/dropped on interface 'lo': 40/3 (pcap:3/dumpcap:0/flushed:0/ps_ifdrop:0) (92.5%)"
            ),
            Some(3)
        );
        assert_eq!(dropped("40 packets captured"), None);
    }

    #[test]
    fn probes_are_told_apart_from_traffic_and_from_each_other() {
        let probe = Probe::new().expect("a UDP socket on 127.0.0.1").marker();
        let mut packet = vec![0u8; 42];
        packet.extend_from_slice(&probe.token);
        packet.push(Mark::End as u8);
        assert_eq!(probe.mark(&packet), Some(Mark::End));
        packet.truncate(58);
        packet.push(Mark::Begin as u8);
        assert_eq!(probe.mark(&packet), Some(Mark::Begin));
        assert_eq!(probe.mark(&packet[..50]), None);
        let other = Probe::new().expect("a second socket").marker();
        assert_ne!(other.token, probe.token);
        assert_eq!(other.mark(&packet), None);
    }

    #[test]
    fn complaints_come_with_what_to_do() {
        let no_right = hint(
            "tcpdump",
            "lo: You don't have permission to perform this capture on that device",
        );
        assert!(no_right.is_some_and(|h| h.contains("root")));
        let no_iface = hint("tcpdump", "nosuch: No such device exists");
        assert!(no_iface.is_some_and(|h| h.contains("-D")));
        assert_eq!(hint("tcpdump", "syntax error in filter expression"), None);
    }
}
