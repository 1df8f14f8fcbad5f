//! The shape the code keeps (issue 14): short functions in the layers that follow a
//! segment through tracking and annotation, the state machine's one `match` excepted, and
//! no module importing one that imports it back.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Longest function, in lines from its `fn` to its closing brace.
const MAX_FN_LINES: usize = 80;

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// (name, first line, length) of each function in rustfmt-formatted `text`: from a line
/// that starts a `fn` to the first line holding only `}` at the same indentation.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let rest = [
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "fn ",
            "const fn ",
        ]
        .iter()
        .find_map(|p| code.strip_prefix(p));
        let Some(rest) = rest else { continue };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(end) = lines.iter().skip(i + 1).position(|l| *l == close) {
            found.push((name, i + 1, end + 2));
        }
    }
    found
}

#[test]
fn no_function_in_track_or_annotate_runs_past_80_lines_but_the_state_machine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for layer in ["track", "annotate"] {
        for file in sources(&root.join(layer)) {
            let text = fs::read_to_string(&file).expect("readable source");
            for (name, line, len) in functions(&text) {
                let the_match = file.ends_with("track/state.rs") && name == "step";
                if len > MAX_FN_LINES && !the_match {
                    long.push(format!("{}:{line} {name}: {len} lines", file.display()));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_function_finder_sees_a_long_function() {
    let body = "    x();\n".repeat(90);
    let text = format!("impl A {{\n    fn short() {{}}\n    pub fn long() {{\n{body}    }}\n}}\n");
    let found = functions(&text);
    assert!(
        found.iter().any(|(n, _, len)| n == "long" && *len == 92),
        "{found:?}"
    );
}

/// `crate::a::b` and `super::…` imports of each module, as module paths.
fn imports(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for file in sources(root) {
        let rel = file.strip_prefix(root).expect("under src");
        let mut parts: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts
            .last()
            .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
        {
            parts.pop();
        }
        let module = parts.join("::");
        let parent = parts[..parts.len().saturating_sub(1)].join("::");
        let text = fs::read_to_string(&file).expect("readable source");
        let mut targets = BTreeSet::new();
        // Only the code before the tests: tests may reach anywhere.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            for piece in code.split(prefix).skip(1) {
                let path: String = piece
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let first = path.split("::").next().unwrap_or_default();
                if first.is_empty() || first.chars().next().is_some_and(char::is_uppercase) {
                    continue;
                }
                let target = if base.is_empty() {
                    first.to_string()
                } else {
                    format!("{base}::{first}")
                };
                if target != module {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module, targets);
    }
    graph
}

/// A path of imports that leads from a module back to it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        module: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut found = path[at..].to_vec();
            found.push(module.to_string());
            return Some(found);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_runs_in_a_circle() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.contains_key("track::state") && graph["annotate"].contains("track"));
    if let Some(found) = circle(&graph) {
        panic!("imports run in a circle: {}", found.join(" → "));
    }
}

#[test]
fn the_circle_finder_finds_a_long_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
            .into_iter()
            .map(|(m, t)| (m.to_string(), BTreeSet::from([t.to_string()])))
            .collect();
    assert_eq!(
        circle(&graph).map(|c| c.join(" ")),
        Some("a b c a".to_string())
    );
}
