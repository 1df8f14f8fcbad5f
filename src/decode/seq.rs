//! TCP sequence numbers: 32-bit serial numbers compared modulo 2^32 (RFC 1982).

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// `self + n`, wrapping at 2^32.
    pub fn plus(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
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

    /// Signed distance `self - other`, in (-2^31, 2^31]; never panics.
    pub fn diff(self, other: Seq) -> i64 {
        i64::from(self.0.wrapping_sub(other.0) as i32)
    }

    /// Serial-number order: `self` is after `other` when less than 2^31 ahead of it.
    pub fn serial_cmp(self, other: Seq) -> Ordering {
        self.diff(other).cmp(&0)
    }

    pub fn is_after(self, other: Seq) -> bool {
        self.serial_cmp(other) == Ordering::Greater
    }

    pub fn is_at_or_after(self, other: Seq) -> bool {
        self.serial_cmp(other) != Ordering::Less
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
        assert_eq!(after.diff(before), 20);
        assert_eq!(before.diff(after), -20);
        assert_eq!(after.since(before), 20);
    }

    #[test]
    fn isn_of_all_ones_counts_from_zero() {
        let isn = Seq(u32::MAX);
        assert_eq!(isn.plus(1), Seq(0));
        assert_eq!(isn.plus(1).since(isn), 1);
        assert_eq!(isn.plus(15).since(isn), 15);
    }

    #[test]
    fn half_way_round_is_ahead_and_never_panics() {
        let a = Seq(0);
        let b = Seq(1 << 31);
        assert_eq!(b.diff(a), -(1i64 << 31));
        assert!(a.is_at_or_after(a));
        assert_eq!(Seq(5).diff(Seq(5)), 0);
    }
}
