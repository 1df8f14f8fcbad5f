//! What several test files share.

use std::process::Command;

/// A headless-capable Chromium, when one is installed.
pub fn browser() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        eprintln!("NOTICE: no Chromium found; the browser test is skipped");
    }
    found
}
