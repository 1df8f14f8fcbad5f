//! A connection's names beyond one capture (SPEC.md `community_id`, `uid`): the Community
//! ID that Zeek, Suricata and Elastic give the same 5-tuple, and a `uid` that names the one
//! connection on that 5-tuple which began at that moment, so records written on different
//! runs, files or machines join without reconciliation.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::capture::Timestamp;
use crate::decode::Addr;

/// TCP's IP protocol number.
const TCP: u8 = 6;

/// Community ID v1 of a TCP connection between `a` and `b` (either order): `1:` and the
/// base64 of the SHA-1 over the seed, the ends ordered lower first (address, then port),
/// the protocol, a zero byte and the two ports, all in network byte order.
pub fn community_id(a: Addr, b: Addr, seed: u16) -> String {
    let (a, b) = (a.socket(), b.socket());
    let ((src, sport), (dst, dport)) = {
        let (x, y) = ((a.ip(), a.port()), (b.ip(), b.port()));
        if (octets(x.0), x.1) <= (octets(y.0), y.1) {
            (x, y)
        } else {
            (y, x)
        }
    };
    let mut sha = Sha1::new();
    sha.update(seed.to_be_bytes());
    sha.update(octets(src));
    sha.update(octets(dst));
    sha.update([TCP, 0]);
    sha.update(sport.to_be_bytes());
    sha.update(dport.to_be_bytes());
    format!("1:{}", STANDARD.encode(sha.finalize()))
}

fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// Base62 digits, as Zeek writes its uids.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Digits of a uid after its `C`: 17 base62 digits hold the 96 bits taken.
const UID_DIGITS: usize = 17;

/// `C` and 17 base62 digits (Zeek's form) of 96 bits of the SHA-1 over the Community ID and
/// the first segment's capture time in nanoseconds: the same for the same connection on
/// every run, whatever else the capture holds (a split capture numbers it differently),
/// and another for the next connection on the same 5-tuple.
pub fn uid(community_id: &str, first: Timestamp) -> String {
    let mut sha = Sha1::new();
    sha.update(community_id.as_bytes());
    sha.update(first.0.to_be_bytes());
    let digest = sha.finalize();
    let mut bits = digest
        .iter()
        .take(12)
        .fold(0u128, |acc, byte| acc << 8 | u128::from(*byte));
    let mut digits = [b'0'; UID_DIGITS];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62.get((bits % 62) as usize).copied().unwrap_or(b'0');
        bits /= 62;
    }
    let mut uid = String::with_capacity(1 + UID_DIGITS);
    uid.push('C');
    uid.extend(digits.iter().map(|d| char::from(*d)));
    uid
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
            assert_eq!(community_id(a, b, seed), id);
            assert_eq!(community_id(b, a, seed), id, "the other direction");
        }
    }

    #[test]
    fn a_uid_is_zeeks_shape_and_names_one_connection() {
        let id = community_id(v4([127, 0, 0, 1], 50186), v4([127, 0, 0, 1], 40110), 0);
        let first = uid(&id, Timestamp(1_795_561_953_380_343_000));
        assert_eq!(first.len(), 18);
        assert!(first.starts_with('C'));
        assert!(first.bytes().skip(1).all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(first, uid(&id, Timestamp(1_795_561_953_380_343_000)));
        assert_ne!(first, uid(&id, Timestamp(1_795_561_953_380_343_001)));
        let other = community_id(v4([127, 0, 0, 1], 50187), v4([127, 0, 0, 1], 40110), 0);
        assert_ne!(first, uid(&other, Timestamp(1_795_561_953_380_343_000)));
    }
}
