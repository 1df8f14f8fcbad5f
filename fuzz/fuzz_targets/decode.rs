//! Frame decoding on arbitrary bytes under every link type synfin decodes (the first byte
//! chooses one from `encap`'s table; a few it does not know are among them).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use synfin::capture::{Frame, FrameNo, Linktype, Timestamp};
use synfin::decode::{Decoded, Decoder, encap};

fn linktypes() -> &'static [u32] {
    static ALL: OnceLock<Vec<u32>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<u32> = encap::TABLE
            .iter()
            .filter(|row| row.kind == "link type")
            .flat_map(|row| row.keys.split(" | "))
            .filter_map(|key| key.parse().ok())
            .collect();
        all.extend([147, 65_536, u32::MAX]);
        all
    })
}

fuzz_target!(|data: &[u8]| {
    let [pick, cut, rest @ ..] = data else { return };
    let all = linktypes();
    let linktype = Linktype(all[usize::from(*pick) % all.len()]);
    let frame = Frame {
        number: FrameNo(1),
        ts: Timestamp(0),
        linktype,
        data: rest,
        // Sometimes claim the snap length cut the frame.
        orig_len: rest.len() as u32 + u32::from(*cut),
    };
    let mut decoder = Decoder::default();
    let len = match decoder.decode(&frame) {
        Decoded::Segment(segment) => segment.len,
        _ => return,
    };
    // A segment is never longer than the bytes that carried it: the frame's, or those an
    // IPComp payload inflated to (a fresh decoder has inflated nothing else).
    assert!(len <= frame.orig_len || len as usize <= decoder.inflated_len());
});
