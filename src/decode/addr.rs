//! A segment's source or destination: an IP address and a port, packed.

use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::str::FromStr;

/// An IP address and a port in two integers. A `SocketAddr` is an enum: every segment would
/// branch on its family to build it, and again to compare, order and hash its ends; this
/// form does all of that with integer operations. The family stays in the lowest bit of
/// `port_v6`, so that 1.2.3.4 and ::1.2.3.4 differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Addr {
    /// The address's bits, high half first (an IPv4 address in the low 32): two halves
    /// rather than a `u128`, whose 16-byte alignment would pad this to 32 bytes.
    ip: [u64; 2],
    /// The port, shifted left by one, and 1 for IPv6.
    port_v6: u32,
}

impl Addr {
    /// The unspecified IPv4 address, port 0.
    pub const UNSPECIFIED: Addr = Addr {
        ip: [0; 2],
        port_v6: 0,
    };

    pub fn new(ip: IpAddr, port: u16) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr::v4(v4.octets(), port),
            IpAddr::V6(v6) => Addr::v6(v6.octets(), port),
        }
    }

    pub fn v4(octets: [u8; 4], port: u16) -> Addr {
        Addr {
            ip: [0, u64::from(u32::from_be_bytes(octets))],
            port_v6: u32::from(port) << 1,
        }
    }

    pub fn v6(octets: [u8; 16], port: u16) -> Addr {
        Addr::from_bits(u128::from_be_bytes(octets), u32::from(port) << 1 | 1)
    }

    /// The address's bits and `port_v6`, as `bits` returns them.
    pub(crate) fn from_bits(ip: u128, port_v6: u32) -> Addr {
        Addr {
            ip: [(ip >> 64) as u64, ip as u64],
            port_v6,
        }
    }

    /// The address's bits (an IPv4 address in the low 32).
    pub(crate) fn bits(self) -> u128 {
        let [hi, lo] = self.ip;
        u128::from(hi) << 64 | u128::from(lo)
    }

    /// The same address with another port.
    pub fn at(self, port: u16) -> Addr {
        Addr {
            ip: self.ip,
            port_v6: u32::from(port) << 1 | (self.port_v6 & 1),
        }
    }

    /// The port, shifted left by one, and 1 for IPv6: `bits` and this order and tell apart
    /// every address.
    pub(crate) fn port_v6(self) -> u32 {
        self.port_v6
    }

    pub fn port(self) -> u16 {
        (self.port_v6 >> 1) as u16
    }

    pub fn is_ipv4(self) -> bool {
        self.port_v6 & 1 == 0
    }

    pub fn socket(self) -> SocketAddr {
        if self.is_ipv4() {
            SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(self.bits() as u32),
                self.port(),
            ))
        } else {
            SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(self.bits()),
                self.port(),
                0,
                0,
            ))
        }
    }
}

impl From<SocketAddr> for Addr {
    fn from(addr: SocketAddr) -> Addr {
        Addr::new(addr.ip(), addr.port())
    }
}

impl From<Addr> for SocketAddr {
    fn from(addr: Addr) -> SocketAddr {
        addr.socket()
    }
}

impl FromStr for Addr {
    type Err = std::net::AddrParseError;
    fn from_str(s: &str) -> Result<Addr, Self::Err> {
        s.parse::<SocketAddr>().map(Addr::from)
    }
}

/// Appends an address as `Display` writes it (`Addr`'s and `SocketAddr`'s alike).
pub fn write_address(o: &mut Vec<u8>, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(v4) => {
            let (text, len) = v4_text(v4.ip().octets(), v4.port());
            o.extend_from_slice(text.get(..len).unwrap_or_default());
        }
        SocketAddr::V6(_) => {
            let _ = write!(o, "{addr}");
        }
    }
}

/// An IPv4 address and port as `Display` writes them, and the text's length; by hand, as
/// formatting through `fmt` took a third of a JSON-lines run (two addresses a record, and
/// a summary row): each octet's digits and the dot after it copied from a table in one
/// four-byte step, then the port's digits.
fn v4_text(octets: [u8; 4], port: u16) -> ([u8; 21], usize) {
    let (mut text, mut len) = v4_octets(octets);
    // The last octet's dot becomes the colon.
    if let Some(colon) = len.checked_sub(1).and_then(|at| text.get_mut(at)) {
        *colon = b':';
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(port).as_bytes();
    if let Some(at) = text.get_mut(len..len + digits.len()) {
        at.copy_from_slice(digits);
        len += digits.len();
    }
    (text, len)
}

/// An IPv4 address's octets as `Display` writes them, each with a dot after it (the last
/// one's too), in room for a port after it: "255.255.255.255:65535", with room for the
/// last octet's whole four-byte step.
fn v4_octets(octets: [u8; 4]) -> ([u8; 21], usize) {
    let mut text = [0; 21];
    let mut len = 0;
    for octet in octets {
        let (digits, n) = OCTETS.get(usize::from(octet)).copied().unwrap_or_default();
        if let Some(at) = text.get_mut(len..len + 4) {
            at.copy_from_slice(&digits);
        }
        len += n;
    }
    (text, len)
}

/// Appends an IP address as `Display` writes it; by hand for IPv4, as `write_address`.
pub fn write_ip(o: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let (text, len) = v4_octets(v4.octets());
            // Without the last octet's dot.
            o.extend_from_slice(text.get(..len.saturating_sub(1)).unwrap_or_default());
        }
        IpAddr::V6(_) => {
            let _ = write!(o, "{ip}");
        }
    }
}

/// Each octet's decimal digits then a dot, left-aligned in four bytes, and how many of the
/// four are its text.
const OCTETS: [([u8; 4], usize); 256] = {
    let mut table = [([0; 4], 0); 256];
    let mut octet = 0;
    while octet < 256 {
        let (hundreds, tens, ones) = (
            b'0' + (octet / 100) as u8,
            b'0' + (octet / 10 % 10) as u8,
            b'0' + (octet % 10) as u8,
        );
        table[octet] = if octet >= 100 {
            ([hundreds, tens, ones, b'.'], 4)
        } else if octet >= 10 {
            ([tens, ones, b'.', 0], 3)
        } else {
            ([ones, b'.', 0, 0], 2)
        };
        octet += 1;
    }
    table
};

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ipv4() {
            let (text, len) = v4_text((self.bits() as u32).to_be_bytes(), self.port());
            // ASCII digits, dots and a colon; `pad` keeps a width asked for.
            f.pad(std::str::from_utf8(text.get(..len).unwrap_or_default()).unwrap_or_default())
        } else {
            self.socket().fmt(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written address is `SocketAddr`'s `Display`, every octet's width
        /// included, appended (`write_address`) or formatted (`Addr`), padded or not.
        #[test]
        fn addresses_are_written_as_display_writes_them(
            octets: [u8; 4],
            v6: [u16; 8],
            port: u16,
            width in 0usize..50,
        ) {
            for addr in [SocketAddr::from((octets, port)), SocketAddr::from((v6, port))] {
                let mut ours = b"x".to_vec();
                write_address(&mut ours, addr);
                prop_assert_eq!(String::from_utf8_lossy(&ours), format!("x{addr}"));
                let packed = Addr::from(addr);
                prop_assert_eq!(packed.to_string(), addr.to_string());
                prop_assert_eq!(format!("{packed:>width$}|"), format!("{addr:>width$}|"));
                prop_assert_eq!(format!("{packed:<width$}|"), format!("{addr:<width$}|"));
                let mut ip = b"x".to_vec();
                write_ip(&mut ip, addr.ip());
                prop_assert_eq!(String::from_utf8_lossy(&ip), format!("x{}", addr.ip()));
            }
        }
    }

    #[test]
    fn round_trips_both_families() {
        for text in [
            "127.0.0.1:80",
            "[::1]:65535",
            "0.0.0.0:0",
            "[::ffff:1.2.3.4]:7",
        ] {
            let addr: Addr = text.parse().expect("an address");
            assert_eq!(addr.to_string(), text);
            assert_eq!(
                SocketAddr::from(addr),
                text.parse::<SocketAddr>().expect("std")
            );
        }
    }

    #[test]
    fn families_differ_with_equal_bits() {
        let v4: Addr = "1.2.3.4:80".parse().expect("v4");
        let v6: Addr = "[::1.2.3.4]:80".parse().expect("v6");
        assert_eq!(v4.bits(), v6.bits());
        assert_ne!(v4, v6);
        assert!(v4.is_ipv4() && !v6.is_ipv4());
        assert_eq!(
            (v4.port(), v6.at(443).port(), v6.at(443).is_ipv4()),
            (80, 443, false)
        );
    }
}
