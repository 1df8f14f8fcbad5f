//! TCP sequence numbers: 32-bit serial numbers compared modulo 2^32 (RFC 1982).
//!
//! Every comparison of sequence or acknowledgement numbers goes through here, for both
//! references synfin follows: RFC 1982's order (`is_after`, `is_before`, `diff`, which Zeek's
//! `seq_delta` also is) and Wireshark's `GT_SEQ` (`wireshark_after`). The two disagree at
//! one distance only, exactly half the space ([`Seq::HALF`]), and nowhere else.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// Half the sequence space, 2^31: the one distance at which "ahead" is a convention.
    /// RFC 1982 leaves it undefined; `diff` reads it as behind (-2^31), and so do
    /// `is_after` and `is_before` of both numbers; Wireshark's `GT_SEQ` reads it as after.
    pub const HALF: u32 = 1 << 31;

    /// `self + n`, wrapping at 2^32.
    pub fn plus(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }

    /// `self - n`, wrapping at 2^32.
    pub fn minus(self, n: u32) -> Seq {
        Seq(self.0.wrapping_sub(n))
    }

    /// Distance from `base` forward to `self`, modulo 2^32: what Wireshark shows as a
    /// relative number.
    ///
    /// ```
    /// use synfin::decode::Seq;
    /// let isn = Seq(u32::MAX - 1);
    /// assert_eq!(isn.plus(16).since(isn), 16);
    /// assert!(isn.plus(16).is_after(isn));
    /// ```
    pub fn since(self, base: Seq) -> u32 {
        self.0.wrapping_sub(base.0)
    }

    /// Signed distance `self - other`, in [-2^31, 2^31): a number [`Seq::HALF`] away reads as
    /// behind. Never panics.
    pub fn diff(self, other: Seq) -> i64 {
        i64::from(self.0.wrapping_sub(other.0) as i32)
    }

    /// Serial-number order by `diff`.
    pub fn serial_cmp(self, other: Seq) -> Ordering {
        self.diff(other).cmp(&0)
    }

    /// Less than [`Seq::HALF`] ahead of `other`.
    pub fn is_after(self, other: Seq) -> bool {
        self.diff(other) > 0
    }

    pub fn is_at_or_after(self, other: Seq) -> bool {
        self.diff(other) >= 0
    }

    /// Up to [`Seq::HALF`] behind `other` (Wireshark's `LT_SEQ`).
    pub fn is_before(self, other: Seq) -> bool {
        self.diff(other) < 0
    }

    /// Wireshark's `LE_SEQ`.
    pub fn is_at_or_before(self, other: Seq) -> bool {
        self.diff(other) <= 0
    }

    /// Wireshark's `GT_SEQ`: up to [`Seq::HALF`] ahead of `other`, that edge included (it is
    /// `other` before `self`, where `is_after` is `self` ahead of `other`).
    pub fn wireshark_after(self, other: Seq) -> bool {
        other.is_before(self)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_holds_across_the_wrap() {
        let before = Seq(u32::MAX - 10);
        let after = before.plus(20);
        assert_eq!(after, Seq(9));
        assert!(after.is_after(before));
        assert!(!before.is_after(after));
        assert!(before.is_before(after));
        assert_eq!(after.diff(before), 20);
        assert_eq!(before.diff(after), -20);
        assert_eq!(after.since(before), 20);
        assert_eq!(after.minus(20), before);
    }

    #[test]
    fn isn_of_all_ones_counts_from_zero() {
        let isn = Seq(u32::MAX);
        assert_eq!(isn.plus(1), Seq(0));
        assert_eq!(isn.plus(1).since(isn), 1);
        assert_eq!(isn.plus(15).since(isn), 15);
    }

    #[test]
    fn half_way_round_is_behind_both_ways_but_after_to_wireshark() {
        let (a, b) = (Seq(0), Seq(Seq::HALF));
        assert_eq!(b.diff(a), -(1i64 << 31));
        assert_eq!(a.diff(b), -(1i64 << 31));
        assert!(!b.is_after(a) && !a.is_after(b));
        assert!(a.is_before(b) && b.is_before(a));
        assert!(b.wireshark_after(a) && a.wireshark_after(b));
        // One short of the edge, both orders agree.
        let c = Seq(Seq::HALF - 1);
        assert!(c.is_after(a) && c.wireshark_after(a));
        assert!(!a.is_after(c) && !a.wireshark_after(c));
        assert!(a.is_at_or_after(a) && a.is_at_or_before(a) && !a.wireshark_after(a));
        assert_eq!(Seq(5).diff(Seq(5)), 0);
    }

    /// The methods are Wireshark's macros on the raw numbers (packet-tcp.h).
    #[test]
    fn wiresharks_macros_read_the_same() {
        let gt = |x: u32, y: u32| (y.wrapping_sub(x) as i32) < 0;
        let lt = |x: u32, y: u32| (x.wrapping_sub(y) as i32) < 0;
        let le = |x: u32, y: u32| (x.wrapping_sub(y) as i32) <= 0;
        let edges = [
            0,
            1,
            7,
            Seq::HALF - 1,
            Seq::HALF,
            Seq::HALF + 1,
            u32::MAX - 1,
            u32::MAX,
        ];
        for x in edges {
            for y in edges {
                let (sx, sy) = (Seq(x), Seq(y));
                assert_eq!(sx.wireshark_after(sy), gt(x, y), "GT_SEQ({x}, {y})");
                assert_eq!(sx.is_before(sy), lt(x, y), "LT_SEQ({x}, {y})");
                assert_eq!(sx.is_at_or_before(sy), le(x, y), "LE_SEQ({x}, {y})");
            }
        }
    }
}
