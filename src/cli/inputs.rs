//! The captures named on the command line: files as given, folders searched recursively,
//! and glob patterns the shell left unexpanded (`'caps/**/*.pcap'`, for lists too long for
//! a command line).

use std::fs;
use std::io::Read;
use std::path::Path;

/// Every capture the inputs name, in order: a folder's captures sorted by path, a pattern's
/// matches as `glob` sorts them. In a folder, a file is a capture when it starts as one
/// (pcap, pcapng or gzip's magic number: the extension is never trusted) and is not hidden.
/// Also returns, one line each, the inputs that name nothing (a pattern that matches no
/// file, a folder that holds no capture or cannot be read).
pub fn expand(inputs: &[String]) -> (Vec<String>, Vec<String>) {
    let mut captures = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if input == "-" || path.is_file() {
            captures.push(input.clone());
        } else if path.is_dir() {
            let before = captures.len();
            match walk(path, &mut captures) {
                Err(e) => errors.push(format!("{input}: {e}")),
                Ok(()) if captures.len() == before => {
                    errors.push(format!("{input}: no capture in this folder"))
                }
                Ok(()) => {}
            }
            captures[before..].sort();
        } else if input.contains(['*', '?', '[']) {
            let before = captures.len();
            match glob::glob(input) {
                Ok(paths) => {
                    for path in paths.flatten() {
                        if path.is_file() {
                            captures.push(path.to_string_lossy().into_owned());
                        } else if path.is_dir() {
                            let _ = walk(&path, &mut captures);
                        }
                    }
                }
                Err(e) => errors.push(format!("{input}: not a pattern: {e}")),
            }
            if captures.len() == before {
                errors.push(format!("{input}: no capture matches"));
            }
        } else {
            // Opening it says what is wrong (no such file, no permission).
            captures.push(input.clone());
        }
    }
    (captures, errors)
}

fn walk(dir: &Path, captures: &mut Vec<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, captures)?;
        } else if looks_like_capture(&path) {
            captures.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Whether the file starts as a capture the reader opens.
fn looks_like_capture(path: &Path) -> bool {
    let mut first = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut first))
        .is_ok_and(|()| synfin::capture::starts_like_capture(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_their_captures_sorted_and_skip_other_files() {
        let dir = tempfile::tempdir().expect("a folder");
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).expect("made");
        let pcap = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        fs::write(root.join("b/c/z.cap"), pcap).expect("written");
        fs::write(root.join("a.pcap"), pcap).expect("written");
        fs::write(root.join(".hidden.pcap"), pcap).expect("written");
        fs::write(root.join("notes.txt"), "not a capture").expect("written");
        let input = root.to_string_lossy().into_owned();
        let (captures, errors) = expand(std::slice::from_ref(&input));
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = captures
            .iter()
            .map(|c| c.trim_start_matches(&input).to_string())
            .collect();
        assert_eq!(names, ["/a.pcap", "/b/c/z.cap"]);
        let pattern = format!("{input}/**/*.cap");
        let (captures, errors) = expand(&[pattern.clone(), format!("{input}/*.none")]);
        assert_eq!(captures.len(), 1);
        assert_eq!(errors, [format!("{input}/*.none: no capture matches")]);
        let empty = root.join("b").to_string_lossy().into_owned();
        fs::remove_file(root.join("b/c/z.cap")).expect("removed");
        let (captures, errors) = expand(std::slice::from_ref(&empty));
        assert!(captures.is_empty());
        assert_eq!(errors, [format!("{empty}: no capture in this folder")]);
    }
}
