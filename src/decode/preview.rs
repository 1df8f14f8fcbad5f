//! The first bytes of a segment's payload, kept so that an explanation can show what was
//! sent (`GET / HTTP/1.1`) or the text a RST carries (RFC 9293 §3.5.3 lets a RST carry
//! diagnostic text). Fixed size, so a segment stays a plain value.

/// How many of a payload's first bytes are kept.
pub const PREVIEW: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preview {
    bytes: [u8; PREVIEW],
    len: u8,
}

impl Preview {
    pub const EMPTY: Preview = Preview {
        bytes: [0; PREVIEW],
        len: 0,
    };

    /// The first bytes of `payload` (those captured: a snap length may have cut the rest).
    pub fn of(payload: &[u8]) -> Preview {
        let mut preview = Preview::EMPTY;
        let n = payload.len().min(PREVIEW);
        if let (Some(to), Some(from)) = (preview.bytes.get_mut(..n), payload.get(..n)) {
            to.copy_from_slice(from);
            preview.len = n as u8;
        }
        preview
    }

    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Default for Preview {
    fn default() -> Self {
        Preview::EMPTY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_bytes() {
        assert_eq!(Preview::of(b"hello").bytes(), b"hello");
        assert_eq!(Preview::of(&[7; 100]).bytes(), &[7; PREVIEW]);
        assert!(Preview::of(&[]).bytes().is_empty());
    }
}
