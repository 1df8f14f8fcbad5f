//! `synfin check -- CMD`, for real: the repo's own client/server exchanges
//! (`examples/loopback.rs`) captured on `lo` while synfin runs them, then checked. Needs a
//! capture tool (tcpdump or dumpcap) and the right to capture (root in CI); where either is
//! missing each test says so and is skipped. Each test uses its own port and captures only
//! it, so the tests can run side by side.

use std::path::PathBuf;
use std::process::{Command, Output};

fn synfin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_synfin"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// `cargo test` builds the examples beside the binaries.
fn loopback() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_synfin"));
    let dir = bin.parent().expect("the binary's folder");
    dir.join("examples").join("loopback")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether this machine lets synfin capture; the reason when not.
fn can_capture() -> Result<(), String> {
    let o = synfin()
        .args(["check", "--allow", "empty", "--port", "47400", "--", "true"])
        .output()
        .expect("synfin runs");
    match o.status.code() {
        Some(0) => Ok(()),
        _ => Err(text(&o.stderr).trim().to_string()),
    }
}

macro_rules! capturing {
    () => {
        if let Err(why) = can_capture() {
            eprintln!("NOTICE: live capture skipped: {why}");
            return;
        }
    };
}

/// `synfin check [ARGS] --port PORT -- loopback SCENARIO PORT`.
fn check_exchange(args: &[&str], scenario: &str, port: u16) -> Output {
    let port = port.to_string();
    synfin()
        .arg("check")
        .args(args)
        .args(["--port", &port, "--"])
        .arg(loopback())
        .args([scenario, &port])
        .output()
        .expect("synfin runs")
}

/// The path a failed check says it kept the capture in.
fn kept(stderr: &str) -> PathBuf {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("synfin check: the capture is kept in "))
        .unwrap_or_else(|| panic!("no kept capture named in: {stderr}"));
    PathBuf::from(line)
}

#[test]
fn a_clean_exchange_passes() {
    capturing!();
    let o = check_exchange(&[], "classic", 47401);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        "check: 1 connection, 1 passed, 0 failed"
    );
    assert!(!text(&o.stderr).contains("kept"), "{}", text(&o.stderr));
}

#[test]
fn a_reset_fails_and_the_capture_is_kept_to_look_at() {
    capturing!();
    let o = check_exchange(&[], "reset", 47402);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(
        text(&o.stdout).trim(),
        "check: 1 connection, 0 passed, 1 failed"
    );
    assert!(
        stderr.contains(
            "no-reset: reset by the client: abortive-close (frame 6); allow with --allow reset"
        ),
        "{stderr}"
    );
    // The kept capture holds the exchange: synfin reads it back to the same verdict.
    let path = kept(&stderr);
    let again = synfin()
        .args(["check", "--port", "47402"])
        .arg(&path)
        .output()
        .expect("synfin runs");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(text(&again.stdout), text(&o.stdout));
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_refused_connection_fails() {
    capturing!();
    let o = check_exchange(&[], "refused", 47403);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(
        text(&o.stdout).trim(),
        "check: 2 connections, 0 passed, 2 failed"
    );
    assert_eq!(
        stderr
            .matches("handshake: refused: the SYN was answered by a RST (nothing listening on port 47403)")
            .count(),
        2,
        "{stderr}"
    );
    let _ = std::fs::remove_file(kept(&stderr));
}

#[test]
fn no_traffic_fails_unless_allowed() {
    capturing!();
    // A command that connects nowhere: a gate over nothing is no gate.
    let o = check_exchange(&[], "none", 47404);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "expect-conns: expected at least 1 connection(s) to port 47404, found 0; allow with --allow empty"
        ),
        "{stderr}"
    );
    // `none` is no scenario: the example exits 2, and the command's failure is told.
    assert!(stderr.contains("failed (exit status 2)"), "{stderr}");
    let _ = std::fs::remove_file(kept(&stderr));
    let o = synfin()
        .args(["check", "--allow", "empty", "--port", "47404", "--", "true"])
        .output()
        .expect("synfin runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn the_commands_failure_fails_the_check() {
    capturing!();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let junit = dir.path().join("report.xml");
    let o = synfin()
        .args(["check", "--allow", "empty", "--port", "47405", "--junit"])
        .arg(&junit)
        .args(["--", "sh", "-c", "exit 3"])
        .output()
        .expect("synfin runs");
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(
        text(&o.stdout).trim(),
        "check: 0 connections, 0 passed, 0 failed, 1 capture expectation(s) not met"
    );
    assert!(
        stderr.contains("capture on lo: command: `sh -c exit 3` failed (exit status 3)"),
        "{stderr}"
    );
    // The CI system's report shows it too.
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(failure.attribute("type"), Some("command"), "{xml}");
    let _ = std::fs::remove_file(kept(&stderr));
}

#[test]
fn what_cannot_start_is_one_line_and_exit_2() {
    capturing!();
    let o = synfin()
        .args(["check", "--port", "47406", "--", "/no/such/program"])
        .output()
        .expect("synfin runs");
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("synfin check: cannot run /no/such/program: "),
        "{stderr}"
    );
    let o = synfin()
        .args(["check", "--capture", "no-such-if0", "--", "true"])
        .output()
        .expect("synfin runs");
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-if0"), "{stderr}");
    assert!(stderr.contains("no such interface"), "{stderr}");
}

#[test]
fn without_the_right_to_capture_synfin_says_what_to_do() {
    capturing!();
    // Drop to nobody, with no capabilities: the capture tool is refused.
    let Some(setpriv) = which(&["/usr/bin/setpriv", "/bin/setpriv"]) else {
        eprintln!("NOTICE: setpriv is not installed; the unprivileged case is skipped");
        return;
    };
    let o = as_nobody(setpriv)
        .args(["check", "--", "true"])
        .current_dir("/")
        .output()
        .expect("setpriv runs");
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("capturing needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN"),
        "{stderr}"
    );
}

#[test]
fn golden_files_survive_a_recapture_and_catch_a_changed_close() {
    capturing!();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let golden = dir.path().join("golden.jsonl");
    let first = dir.path().join("first.pcap");
    let g = golden.to_str().expect("UTF-8 path");
    let f = first.to_str().expect("UTF-8 path");
    let o = check_exchange(&["--expect", g, "--bless", "--write", f], "classic", 47407);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // A second, independent capture of the same exchange: new ISNs, a new client port,
    // new times; it matches.
    let second = dir.path().join("second.pcap");
    let s = second.to_str().expect("UTF-8 path");
    let o = check_exchange(&["--expect", g, "--write", s], "classic", 47407);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("check: annotation matches {g}")
    );
    // They are different captures: --strict tells them apart.
    let o = synfin()
        .args(["check", "--expect", g, "--strict", s])
        .output()
        .expect("synfin runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("abs_seq is"),
        "{}",
        text(&o.stderr)
    );
    // The server resets instead of closing: that fails, with the connection's difference
    // told first.
    let o = check_exchange(&["--expect", g], "server-reset", 47407);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("synfin check: conn 0: teardown is \"reset\", expected \"four-way\""),
        "{stderr}"
    );
    let _ = std::fs::remove_file(kept(&stderr));
}

#[test]
fn a_capture_tool_given_the_capabilities_lets_anyone_check() {
    capturing!();
    // What the refusal advises, done: a copy of the tool with CAP_NET_RAW and CAP_NET_ADMIN,
    // run by nobody.
    let (Some(setcap), Some(setpriv), Some(tcpdump)) = (
        which(&["/usr/sbin/setcap", "/sbin/setcap", "/usr/bin/setcap"]),
        which(&["/usr/bin/setpriv", "/bin/setpriv"]),
        which(&["/usr/bin/tcpdump", "/usr/sbin/tcpdump"]),
    ) else {
        eprintln!("NOTICE: setcap, setpriv or tcpdump missing; the capabilities case is skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tool = dir.path().join("tcpdump");
    std::fs::copy(tcpdump, &tool).expect("tcpdump copied");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("the folder opened to others");
    let given = Command::new(setcap)
        .arg("cap_net_raw,cap_net_admin=eip")
        .arg(&tool)
        .status()
        .expect("setcap runs");
    if !given.success() {
        eprintln!("NOTICE: setcap failed here (no file capabilities?); the case is skipped");
        return;
    }
    let o = as_nobody(setpriv)
        .args(["check", "--allow", "empty", "--port", "47408", "--", "true"])
        .env("SYNFIN_CAPTURE_TOOL", &tool)
        .current_dir("/")
        .output()
        .expect("setpriv runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        "check: 0 connections, 0 passed, 0 failed"
    );
}

/// synfin run as user nobody, without capabilities, through `setpriv`.
fn as_nobody(setpriv: &str) -> Command {
    let mut command = Command::new(setpriv);
    command
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--inh-caps",
            "-all",
        ])
        .arg(env!("CARGO_BIN_EXE_synfin"));
    command
}

fn which(candidates: &[&'static str]) -> Option<&'static str> {
    candidates
        .iter()
        .copied()
        .find(|p| std::path::Path::new(p).exists())
}

/// `synfin --live lo` started with these arguments, once it says it captures.
fn live(args: &[&str]) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    let mut child = synfin()
        .arg("--live")
        .arg("lo")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("synfin runs");
    let stderr = child.stderr.take().expect("its stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("synfin: capturing on lo"), "{first}");
    // Keep reading its stderr so that it never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[test]
fn live_stories_come_as_connections_finish_and_ctrl_c_ends_them() {
    use std::io::{BufRead, BufReader};
    capturing!();
    let mut child = live(&[
        "--filter",
        "tcp port 47409",
        "--format",
        "jsonl",
        "--summary",
    ]);
    let ran = Command::new(loopback())
        .args(["classic", "47409"])
        .status()
        .expect("the exchange runs");
    assert!(ran.success());
    // The connection's record comes while the capture still runs: 5 s after its close
    // (Zeek's delay before a closed connection's record), not at the end.
    let stdout = child.stdout.take().expect("its stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let record = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the connection's record while capturing");
    let record: serde_json::Value = serde_json::from_str(&record).expect("JSON");
    assert_eq!(record["type"], "connection");
    assert_eq!(record["teardown"], "four-way");
    assert_eq!(record["server"], "127.0.0.1:47409");
    assert!(
        child.try_wait().expect("a status").is_none(),
        "still capturing"
    );
    // Ctrl-C to synfin alone: it stops the capture tool and ends cleanly.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = child.wait().expect("synfin ends");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn live_capture_stops_after_its_duration() {
    capturing!();
    let child = live(&["--filter", "tcp port 47410", "--duration", "1"]);
    let started = std::time::Instant::now();
    let o = child.wait_with_output().expect("synfin ends");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn ctrl_c_stops_the_command_and_the_gate_still_checks_what_it_captured() {
    use std::os::unix::process::CommandExt;
    capturing!();
    // As a terminal's Ctrl-C: SIGINT to the whole process group, while CMD still runs.
    let script = format!("{} classic 47411; sleep 30", loopback().display());
    let child = synfin()
        .args(["check", "--port", "47411", "--", "sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("synfin runs");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let group = format!("-{}", child.id());
    let sent = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let o = child.wait_with_output().expect("synfin ends");
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(
        text(&o.stdout).trim(),
        "check: 1 connection, 1 passed, 0 failed, 1 capture expectation(s) not met"
    );
    assert!(stderr.contains("failed (killed by signal 2)"), "{stderr}");
    let _ = std::fs::remove_file(kept(&stderr));
}

#[test]
fn a_live_duration_must_be_a_positive_number_of_seconds() {
    for bad in ["-1", "0", "nan", "inf", "soon"] {
        let o = synfin()
            .args(["--live", "lo", &format!("--duration={bad}")])
            .output()
            .expect("synfin runs");
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("--duration"), "{bad}");
    }
}
