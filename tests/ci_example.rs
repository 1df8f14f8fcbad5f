//! The CI example of docs/ci.md, run for real: tcpdump on `lo`, the exchange,
//! `synfin check`. Needs tcpdump and the right to capture (root); says so and skips
//! otherwise.

use std::process::Command;

fn can_capture() -> Result<(), String> {
    let tcpdump = Command::new("tcpdump").arg("--version").output();
    if !tcpdump.is_ok_and(|o| o.status.success()) {
        return Err("tcpdump is not installed".to_string());
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| e.to_string())?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("capturing on lo needs root".to_string());
    }
    Ok(())
}

#[test]
fn the_readme_ci_script_captures_and_checks_for_real() {
    if let Err(why) = can_capture() {
        eprintln!("NOTICE: {why}; the CI example (examples/ci/loopback-check.sh) is skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let junit = dir.path().join("junit.xml");
    let out = Command::new("bash")
        .arg("examples/ci/loopback-check.sh")
        .arg("47390")
        .env("JUNIT", &junit)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("bash runs the script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        "check: 1 connection, 1 passed, 0 failed",
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!((cases, failures), (2, 0), "{xml}");
}
