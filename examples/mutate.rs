//! Mutates real captures at the TCP level, for differential testing against Wireshark
//! (`tools/difftest` drives it): each mutant is a capture with one to three changes —
//! segments dropped, duplicated, swapped or delayed; a window, flag, sequence or
//! acknowledgement number, or TCP option byte changed; the capture or a frame cut short —
//! deterministic from the seed, so that any difference can be made again.
//!
//! ```text
//! cargo run --release --example mutate -- --seed S --per-capture N --out DIR CAPTURE...
//! ```
//! writes `DIR/<capture>~<seed>-<k>.pcap` and prints one line per mutant: its file, then
//! what was changed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use etherparse::{EtherType, LaxSlicedPacket, TransportSlice};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use synfin::capture::CaptureReader;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Captures larger than this are not mutated: Wireshark's answers for thousands of mutants
/// must come quickly.
const MAX_FRAMES: usize = 5_000;

#[derive(Clone)]
struct Frame {
    ts: u64,
    data: Vec<u8>,
    orig_len: u32,
}

/// The frames of a capture of one link type, or why it cannot be mutated.
fn read(path: &Path) -> Result<(u32, Vec<Frame>)> {
    let mut reader = CaptureReader::new(Box::new(File::open(path)?))?;
    let mut frames = Vec::new();
    let mut linktype = None;
    while let Some(frame) = reader.next_frame()? {
        if *linktype.get_or_insert(frame.linktype.0) != frame.linktype.0 {
            return Err("several link types".into());
        }
        if frames.len() == MAX_FRAMES {
            return Err("too many frames".into());
        }
        frames.push(Frame {
            ts: frame.ts.0,
            data: frame.data.to_vec(),
            orig_len: frame.orig_len,
        });
    }
    Ok((linktype.ok_or("no frames")?, frames))
}

/// Where the TCP header starts in a frame, for the link types most captures use.
fn tcp_offset(linktype: u32, data: &[u8]) -> Option<usize> {
    let be16 = |at: usize| Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?));
    let packet = match linktype {
        1 => LaxSlicedPacket::from_ethernet(data).ok()?,
        0 | 108 => LaxSlicedPacket::from_ip(data.get(4..)?).ok()?,
        12 | 14 | 101 | 228 | 229 => LaxSlicedPacket::from_ip(data).ok()?,
        113 => LaxSlicedPacket::from_ether_type(EtherType(be16(14)?), data.get(16..)?),
        276 => LaxSlicedPacket::from_ether_type(EtherType(be16(0)?), data.get(20..)?),
        _ => return None,
    };
    match packet.transport? {
        TransportSlice::Tcp(tcp) => {
            Some(tcp.header_slice().as_ptr() as usize - data.as_ptr() as usize)
        }
        _ => None,
    }
}

struct Mutant {
    frames: Vec<Frame>,
    /// Per frame, where its TCP header is (kept in step with `frames`).
    tcp: Vec<Option<usize>>,
    changes: Vec<String>,
}

impl Mutant {
    /// A frame holding a TCP header, at random.
    fn pick(&self, rng: &mut fastrand::Rng) -> Option<usize> {
        let with_tcp: Vec<usize> = (0..self.frames.len())
            .filter(|&i| self.tcp[i].is_some())
            .collect();
        (!with_tcp.is_empty()).then(|| with_tcp[rng.usize(..with_tcp.len())])
    }

    /// Frame numbers as Wireshark counts them, for the description.
    fn apply(&mut self, rng: &mut fastrand::Rng) {
        let Some(i) = self.pick(rng) else { return };
        let n = i + 1;
        let at = self.tcp[i].unwrap_or_default();
        match rng.u8(..11) {
            0 => {
                self.frames.remove(i);
                self.tcp.remove(i);
                self.changes.push(format!("drop frame {n}"));
            }
            1 => {
                let copy = self.frames[i].clone();
                self.frames.insert(i + 1, copy);
                self.tcp.insert(i + 1, self.tcp[i]);
                self.changes.push(format!("duplicate frame {n}"));
            }
            2 | 3 => {
                // Later by 1 to 5 places; the times stay where they were, in order.
                let to = (i + 1 + rng.usize(..5)).min(self.frames.len() - 1);
                if to == i {
                    return;
                }
                let times: Vec<u64> = self.frames.iter().map(|f| f.ts).collect();
                let frame = self.frames.remove(i);
                let tcp = self.tcp.remove(i);
                self.frames.insert(to, frame);
                self.tcp.insert(to, tcp);
                for (f, t) in self.frames.iter_mut().zip(times) {
                    f.ts = t;
                }
                self.changes.push(format!("move frame {n} to {}", to + 1));
            }
            4 => {
                let window = match rng.u8(..4) {
                    0 => 0,
                    1 => 1,
                    2 => rng.u16(..),
                    _ => self.field16(i, at + 14) / 2,
                };
                self.set(i, at + 14, &window.to_be_bytes());
                self.changes.push(format!("window of frame {n} = {window}"));
            }
            5 => {
                let bit = 1u16 << rng.u8(..8);
                let flags = self.field16(i, at + 12) ^ bit;
                self.set(i, at + 12, &flags.to_be_bytes());
                self.changes
                    .push(format!("flip flag bit 0x{bit:02x} of frame {n}"));
            }
            6 | 7 => {
                let (field, name) = if rng.bool() {
                    (at + 4, "seq")
                } else {
                    (at + 8, "ack")
                };
                let delta: i64 = match rng.u8(..4) {
                    0 => 1,
                    1 => -1,
                    2 => rng.i64(-3000..3000),
                    _ => rng.i64(-(1 << 31)..(1 << 31)),
                };
                let old = self.field32(i, field);
                let new = (i64::from(old) + delta) as u32;
                self.set(i, field, &new.to_be_bytes());
                self.changes.push(format!("{name} of frame {n} {delta:+}"));
            }
            8 => {
                let header = usize::from(self.byte(i, at + 12) >> 4) * 4;
                if header <= 20 {
                    return;
                }
                let byte = at + 20 + rng.usize(..header - 20);
                let value = rng.u8(..);
                self.set(i, byte, &[value]);
                self.changes.push(format!(
                    "option byte {} of frame {n} = {value}",
                    byte - at - 20
                ));
            }
            9 => {
                self.frames.truncate(i + 1);
                self.tcp.truncate(i + 1);
                let frame = &mut self.frames[i];
                let keep = rng.usize(..frame.data.len());
                frame.data.truncate(keep);
                self.changes
                    .push(format!("capture ends in frame {n}, after {keep} bytes"));
            }
            _ => {
                // A snap length: the frame's bytes cut, its length on the wire kept.
                let frame = &mut self.frames[i];
                let keep = at + rng.usize(..frame.data.len().saturating_sub(at).max(1));
                frame.data.truncate(keep);
                self.changes.push(format!("frame {n} cut to {keep} bytes"));
            }
        }
    }

    fn byte(&self, i: usize, at: usize) -> u8 {
        self.frames[i].data.get(at).copied().unwrap_or_default()
    }

    fn field16(&self, i: usize, at: usize) -> u16 {
        u16::from_be_bytes([self.byte(i, at), self.byte(i, at + 1)])
    }

    fn field32(&self, i: usize, at: usize) -> u32 {
        u32::from_be_bytes([
            self.byte(i, at),
            self.byte(i, at + 1),
            self.byte(i, at + 2),
            self.byte(i, at + 3),
        ])
    }

    fn set(&mut self, i: usize, at: usize, bytes: &[u8]) {
        if let Some(dst) = self.frames[i].data.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

fn write(path: &Path, linktype: u32, frames: &[Frame]) -> Result<()> {
    let header = PcapHeader {
        datalink: DataLink::from(linktype),
        endianness: Endianness::Little,
        ts_resolution: TsResolution::NanoSecond,
        snaplen: 262_144,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(BufWriter::new(File::create(path)?), header)?;
    for f in frames {
        let ts = Duration::from_nanos(f.ts);
        let orig_len = f.orig_len.max(f.data.len() as u32);
        writer.write_packet(&PcapPacket::new(ts, orig_len, &f.data))?;
    }
    writer.into_writer().flush()?;
    Ok(())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut seed, mut per_capture, mut out, mut inputs) = (1u64, 10usize, None, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().ok_or("--seed N")?.parse()?,
            "--per-capture" => per_capture = args.next().ok_or("--per-capture N")?.parse()?,
            "--out" => out = Some(args.next().ok_or("--out DIR")?),
            _ => inputs.push(arg),
        }
    }
    let out = out.ok_or("--out DIR is needed")?;
    std::fs::create_dir_all(&out)?;
    for (c, input) in inputs.iter().enumerate() {
        let path = Path::new(input);
        let (linktype, frames) = match read(path) {
            Ok(read) => read,
            Err(e) => {
                eprintln!("mutate: {input}: not mutated: {e}");
                continue;
            }
        };
        let tcp: Vec<Option<usize>> = frames
            .iter()
            .map(|f| tcp_offset(linktype, &f.data))
            .collect();
        let stem = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("capture");
        for k in 0..per_capture {
            let mut rng = fastrand::Rng::with_seed(seed ^ (c as u64) << 32 ^ k as u64);
            let mut mutant = Mutant {
                frames: frames.clone(),
                tcp: tcp.clone(),
                changes: Vec::new(),
            };
            for _ in 0..1 + rng.usize(..3) {
                mutant.apply(&mut rng);
            }
            if mutant.changes.is_empty() || mutant.frames.is_empty() {
                continue;
            }
            let name = format!("{stem}~{seed}-{k}.pcap");
            write(&Path::new(&out).join(&name), linktype, &mutant.frames)?;
            println!("{name}\t{input}\t{}", mutant.changes.join("; "));
        }
    }
    Ok(())
}
