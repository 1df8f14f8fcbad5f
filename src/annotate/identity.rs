//! A connection's names beyond one capture (SPEC.md `community_id`, `uid`): the Community
//! ID that Zeek, Suricata and Elastic give the same 5-tuple, and a `uid` that names the one
//! connection on that 5-tuple which began at that moment, so records written on different
//! runs, files or machines join without reconciliation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{Serialize, SerializeMap, Serializer};
use sha1::{Digest, Sha1};

use crate::capture::Timestamp;
use crate::decode::Addr;

/// TCP's IP protocol number.
const TCP: u8 = 6;

/// A connection's names: its 5-tuple's ends and its first segment's time, from which the
/// Community ID and the uid are worked out when they are written (one SHA-1 each time:
/// tables and summaries, which never show them, never pay for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Names {
    pub ends: (Addr, Addr),
    pub first: Timestamp,
}

impl Names {
    /// The Community ID and the uid, as SPEC.md spells them.
    pub fn texts(&self) -> Texts {
        let digest = digest(self.ends.0, self.ends.1, 0);
        Texts {
            community_id: community_id(&digest),
            uid: uid(&digest, self.first),
        }
    }
}

/// A connection's Community ID and uid, written out: fixed lengths, so held in place
/// rather than in two `String`s a connection.
pub struct Texts {
    /// `1:` and the SHA-1's 28 base64 characters.
    community_id: [u8; 30],
    /// `C` and 17 base62 digits.
    uid: [u8; 18],
}

impl Texts {
    pub fn community_id(&self) -> &str {
        std::str::from_utf8(&self.community_id).unwrap_or_default()
    }

    pub fn uid(&self) -> &str {
        std::str::from_utf8(&self.uid).unwrap_or_default()
    }
}

/// Written as the record's `uid` and `community_id` fields (the record flattens it).
impl Serialize for Names {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let texts = self.texts();
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("uid", texts.uid())?;
        map.serialize_entry("community_id", texts.community_id())?;
        map.end()
    }
}

/// The Community ID of a digest: version 1, base64.
fn community_id(digest: &[u8; 20]) -> [u8; 30] {
    let mut text = *b"1:0000000000000000000000000000";
    if let Some(encoded) = text.get_mut(2..) {
        // 20 bytes are 28 base64 characters, padding included: they always fit.
        let _ = STANDARD.encode_slice(digest, encoded);
    }
    text
}

/// The Community ID's SHA-1: over the seed, the ends ordered lower first (address, then
/// port), the protocol, a zero byte and the two ports, all in network byte order.
fn digest(a: Addr, b: Addr, seed: u16) -> [u8; 20] {
    // An address's bits compare as its bytes in network order do.
    let (src, dst) = if (a.bits(), a.port()) <= (b.bits(), b.port()) {
        (a, b)
    } else {
        (b, a)
    };
    let mut sha = Sha1::new();
    sha.update(seed.to_be_bytes());
    for end in [src, dst] {
        let bytes = end.bits().to_be_bytes();
        // An IPv4 address is the last 4 of the 16 bytes.
        let first = if end.is_ipv4() { 12 } else { 0 };
        sha.update(bytes.get(first..).unwrap_or_default());
    }
    sha.update([TCP, 0]);
    sha.update(src.port().to_be_bytes());
    sha.update(dst.port().to_be_bytes());
    sha.finalize().into()
}

/// Base62 digits, as Zeek writes its uids.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SplitMix64's finalizer: a fixed mix, the same on every machine and run.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `C` and 17 base62 digits (Zeek's form) of 96 bits mixed from the Community ID's SHA-1
/// and the first segment's capture time in nanoseconds: the same for the same connection
/// on every run, whatever else the capture holds (a split capture numbers it
/// differently), and another for the next connection on the same 5-tuple. (Not a second
/// SHA-1: a mix costs nothing per connection, and a uid needs no secrecy.)
fn uid(digest: &[u8; 20], first: Timestamp) -> [u8; 18] {
    let word = |range: std::ops::Range<usize>| {
        let mut bytes = [0u8; 8];
        if let Some(part) = digest.get(range) {
            bytes[..part.len()].copy_from_slice(part);
        }
        u64::from_be_bytes(bytes)
    };
    let high = mix(word(0..8) ^ first.0);
    let low = mix(word(8..16) ^ word(16..20) ^ first.0.rotate_left(32) ^ high);
    let mut uid = [b'C'; 18];
    let (high_digits, low_digits) = uid.split_at_mut(12);
    base62(high_digits.get_mut(1..).unwrap_or_default(), high);
    base62(low_digits, low & 0xffff_ffff);
    uid
}

/// `value`'s last `out.len()` base62 digits, most significant first.
fn base62(out: &mut [u8], mut value: u64) {
    for digit in out.iter_mut().rev() {
        *digit = BASE62.get((value % 62) as usize).copied().unwrap_or(b'0');
        value /= 62;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(ip: [u8; 4], port: u16) -> Addr {
        Addr::v4(ip, port)
    }

    fn v6(ip: &str, port: u16) -> Addr {
        let ip: std::net::Ipv6Addr = ip.parse().expect("an IPv6 address");
        Addr::v6(ip.octets(), port)
    }

    /// The standard's example (its README: 128.232.110.120:34855 → 66.35.250.204:80 is
    /// `1:LQU9qZlK+B5F3KDmev6m5PMibrg=`), and what its reference implementation (the
    /// `communityid` Python package) gives for seed 1 and for IPv6, both directions each.
    #[test]
    fn community_ids_are_the_standards() {
        let (client, server) = (v4([128, 232, 110, 120], 34855), v4([66, 35, 250, 204], 80));
        let (a6, b6) = (v6("2001:db8::1", 1234), v6("2001:db8::2", 80));
        for (a, b, seed, id) in [
            (client, server, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
            (client, server, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="),
            (a6, b6, 0, "1:r0kqPLw6hSIAasyo9ANthUgbhVA="),
            (a6, b6, 1, "1:40keI+8ltcyOOY8f8dFTtehHT4c="),
        ] {
            let id_of = |x, y| community_id(&digest(x, y, seed));
            assert_eq!(std::str::from_utf8(&id_of(a, b)), Ok(id));
            assert_eq!(
                std::str::from_utf8(&id_of(b, a)),
                Ok(id),
                "the other direction"
            );
            if seed == 0 {
                let names = Names {
                    ends: (a, b),
                    first: Timestamp(0),
                };
                assert_eq!(names.texts().community_id(), id);
            }
        }
    }

    #[test]
    fn a_uid_is_zeeks_shape_and_names_one_connection() {
        let (client, server) = (v4([127, 0, 0, 1], 50186), v4([127, 0, 0, 1], 40110));
        let names = |a, b, ns| {
            Names {
                ends: (a, b),
                first: Timestamp(ns),
            }
            .texts()
            .uid()
            .to_string()
        };
        let at = |ns| names(client, server, ns);
        let first = at(1_795_561_953_380_343_000);
        assert_eq!(first.len(), 18);
        assert!(first.starts_with('C'));
        assert!(first.bytes().skip(1).all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(first, at(1_795_561_953_380_343_000));
        assert_eq!(first, names(server, client, 1_795_561_953_380_343_000));
        assert_ne!(first, at(1_795_561_953_380_343_001));
        let other = v4([127, 0, 0, 1], 50187);
        assert_ne!(first, names(other, server, 1_795_561_953_380_343_000));
        // Pinned: a change of the rule would rename every connection ever written.
        assert_eq!(first, "CDbmycVEw6De3KbrnW", "{first}");
    }
}
