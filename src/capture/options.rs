//! pcapng options whose text is not UTF-8. pcap-file refuses the whole block for one, and
//! with it every later frame; options are metadata (Wireshark shows such text as it can and
//! reads on), so the block is read again without them.

use pcap_file::Endianness;

// pcapng block types (and the section header's byte-order magic), for the reader too.
pub(super) const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
pub(super) const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
pub(super) const PCAPNG_IDB: u32 = 1;
pub(super) const PCAPNG_PB: u32 = 2;
pub(super) const PCAPNG_SPB: u32 = 3;
const PCAPNG_ISB: u32 = 5;
pub(super) const PCAPNG_EPB: u32 = 6;
/// Custom options whose value is text after a 4-byte Private Enterprise Number.
const CUSTOM_TEXT: [u16; 2] = [2988, 19372];

/// `block` (whole, as read) without its options whose text is not UTF-8, and how many were
/// left out; `None` for a block whose options synfin does not walk (it needs none of them).
/// `section`: the byte order of the section the block is in.
pub fn without_bad_text(block: &[u8], section: Endianness) -> Option<(Vec<u8>, usize)> {
    let kind = u32::from_le_bytes(block.get(..4)?.try_into().ok()?);
    let order = if kind == PCAPNG_SHB {
        // A section header gives its own byte order.
        let magic: [u8; 4] = block.get(8..12)?.try_into().ok()?;
        if u32::from_le_bytes(magic) == PCAPNG_BYTE_ORDER_MAGIC {
            Endianness::Little
        } else {
            Endianness::Big
        }
    } else {
        section
    };
    let u32_at = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = block.get(at..at + 4)?.try_into().ok()?;
        Some(match order {
            Endianness::Little => u32::from_le_bytes(bytes),
            Endianness::Big => u32::from_be_bytes(bytes),
        })
    };
    let u16_at = |at: usize| -> Option<u16> {
        let bytes: [u8; 2] = block.get(at..at + 2)?.try_into().ok()?;
        Some(match order {
            Endianness::Little => u16::from_le_bytes(bytes),
            Endianness::Big => u16::from_be_bytes(bytes),
        })
    };
    let padded = |n: u32| (n as usize).checked_add(3).map(|n| n & !3);
    let kind = u32_at(0)?;
    // Where the options start, and which of them are text (pcapng's opt_comment and the
    // block's own text options).
    let (start, texts): (usize, &[u16]) = match kind {
        PCAPNG_SHB => (24, &[1, 2, 3, 4]),
        PCAPNG_IDB => (16, &[1, 2, 3, 12, 15]),
        PCAPNG_EPB | PCAPNG_PB => (28usize.checked_add(padded(u32_at(20)?)?)?, &[1]),
        PCAPNG_ISB => (20, &[1]),
        _ => return None,
    };
    let end = block.len().checked_sub(4)?;
    let mut out = block.get(..start)?.to_vec();
    let mut dropped = 0;
    let mut at = start;
    while at + 4 <= end {
        let code = u16_at(at)?;
        if code == 0 {
            break;
        }
        let len = usize::from(u16_at(at + 2)?);
        let value = block.get(at + 4..at + 4 + len)?;
        let next = (at + 4).checked_add(padded(u32::from(u16_at(at + 2)?))?)?;
        let text = if CUSTOM_TEXT.contains(&code) {
            value.get(4..)
        } else {
            texts.contains(&code).then_some(value)
        };
        if text.is_some_and(|t| std::str::from_utf8(t).is_err()) {
            dropped += 1;
        } else {
            out.extend_from_slice(block.get(at..next.min(end))?);
        }
        at = next;
    }
    out.extend_from_slice(&[0; 4]);
    let total = u32::try_from(out.len() + 4).ok()?;
    let total = match order {
        Endianness::Little => total.to_le_bytes(),
        Endianness::Big => total.to_be_bytes(),
    };
    out.get_mut(4..8)?.copy_from_slice(&total);
    out.extend_from_slice(&total);
    Some((out, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big-endian interface block: a name that is not UTF-8 goes, the binary
    /// `if_tsresol` (0x89: 2^-9, not UTF-8 either) stays, and the lengths add up.
    #[test]
    fn only_text_options_that_are_not_utf8_go() {
        let option = |code: u16, value: &[u8]| {
            let mut o = code.to_be_bytes().to_vec();
            o.extend(u16::try_from(value.len()).expect("short").to_be_bytes());
            o.extend(value);
            o.resize(o.len().div_ceil(4) * 4, 0);
            o
        };
        let mut block = PCAPNG_IDB.to_be_bytes().to_vec();
        block.extend([0; 4]);
        block.extend([0, 1, 0, 0, 0, 0, 0xff, 0xff]);
        block.extend(option(2, &[b'l', 0xff, b'o']));
        block.extend(option(9, &[0x89]));
        block.extend(option(3, b"loopback"));
        block.extend([0; 4]);
        let len = u32::try_from(block.len() + 4).expect("short").to_be_bytes();
        block[4..8].copy_from_slice(&len);
        block.extend(len);
        let (clean, dropped) = without_bad_text(&block, Endianness::Big).expect("walked");
        assert_eq!(dropped, 1);
        let mut want = block[..16].to_vec();
        want.extend(option(9, &[0x89]));
        want.extend(option(3, b"loopback"));
        want.extend([0; 4]);
        let len = u32::try_from(want.len() + 4).expect("short").to_be_bytes();
        want[4..8].copy_from_slice(&len);
        want.extend(len);
        assert_eq!(clean, want);
    }
}
