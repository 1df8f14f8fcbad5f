//! Frame decoding on arbitrary bytes under every link type synfin knows (the first two
//! bytes choose one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use synfin::capture::{Frame, FrameNo, Linktype, Timestamp};
use synfin::decode::{Decoded, Decoder};

const LINKTYPES: [u32; 15] = [
    0, 1, 9, 10, 12, 14, 101, 108, 113, 129, 178, 228, 229, 239, 276,
];

fuzz_target!(|data: &[u8]| {
    let [pick, cut, rest @ ..] = data else { return };
    let linktype = Linktype(LINKTYPES[usize::from(*pick) % LINKTYPES.len()]);
    let frame = Frame {
        number: FrameNo(1),
        ts: Timestamp(0),
        linktype,
        data: rest,
        // Sometimes claim the snap length cut the frame.
        orig_len: rest.len() as u32 + u32::from(*cut),
    };
    if let Decoded::Segment(segment) = Decoder::default().decode(&frame) {
        assert!(segment.len <= frame.orig_len);
    }
});
