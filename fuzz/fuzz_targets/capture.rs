//! The capture reader on arbitrary bytes: every frame until the end or a fault.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synfin::capture::CaptureReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut last = 0;
    while let Ok(Some(frame)) = reader.next_frame() {
        assert!(frame.number.0 > last, "frame numbers increase");
        last = frame.number.0;
    }
});
