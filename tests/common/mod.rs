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

/// Opens `page` in headless `browser` with `script` (which must leave a `<pre
/// id="result">` of JSON in the page) run at its end, and returns that JSON: what the page
/// showed after the script's clicks, as the browser's own engine ran them.
// Not every test file that shares this module drives a page.
#[allow(dead_code)]
pub fn drive(browser: &str, page: &str, script: &str) -> serde_json::Value {
    let page = page.replace("</body></html>", &format!("{script}</body></html>"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("page.html");
    std::fs::write(&file, page).expect("written");
    let run = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("the browser runs");
    let dom = String::from_utf8_lossy(&run.stdout);
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .expect("the driving script ran");
    serde_json::from_str(&result.replace("&quot;", "\"")).expect("JSON")
}
