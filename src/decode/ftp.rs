//! The one thing synfin reads above TCP: an FTP server's passive-mode reply (`227 Entering
//! Passive Mode (h1,h2,h3,h4,p1,p2)`, RFC 959; `229 Entering Extended Passive Mode
//! (|||port|)`, RFC 2428) announces the endpoint a data connection will open to. Wireshark's
//! FTP dissector sets that conversation up before the connection's SYN arrives, and its
//! `tcp.completeness` then never counts that SYN; synfin's must equal it.

use super::Addr;

/// The control port, where Wireshark's FTP dissector reads replies.
const FTP: u16 = 21;

/// The endpoint a reply announces: an IPv4 address and a port (227), or a port at the
/// replying server's own address (229: the address is 0.0.0.0); port 0 for none. Six
/// bytes rather than an enum's eight, which would grow every decoded segment by a word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Announced {
    ip: [u8; 4],
    port: u16,
}

impl Announced {
    pub const NOTHING: Announced = Announced {
        ip: [0; 4],
        port: 0,
    };

    fn v4(ip: [u8; 4], port: u16) -> Announced {
        Announced { ip, port }
    }

    fn port(port: u16) -> Announced {
        Announced { ip: [0; 4], port }
    }

    /// The endpoint, for a reply sent from `server`.
    #[inline]
    pub fn endpoint(self, server: Addr) -> Option<Addr> {
        match (self.port, self.ip) {
            (0, _) => None,
            (port, [0, 0, 0, 0]) => Some(server.at(port)),
            (port, ip) => Some(Addr::v4(ip, port)),
        }
    }
}

/// What a segment from `src_port` carrying `payload` announces: the first passive-mode
/// reply line in it, if any.
#[inline]
pub fn announced(src_port: u16, payload: &[u8]) -> Announced {
    if src_port != FTP {
        return Announced::NOTHING;
    }
    payload
        .split(|b| *b == b'\n')
        .find_map(|line| match line.get(..4) {
            Some(b"227 " | b"227-") => pasv(line).map(|(ip, port)| Announced::v4(ip, port)),
            Some(b"229 " | b"229-") => epsv(line).map(Announced::port),
            _ => None,
        })
        .unwrap_or(Announced::NOTHING)
}

/// The first run of six comma-separated numbers up to 255 in a 227 reply, after its code.
fn pasv(line: &[u8]) -> Option<([u8; 4], u16)> {
    let text = line.get(3..)?;
    (0..text.len())
        .filter(|&i| {
            let digit = |j: usize| text.get(j).is_some_and(u8::is_ascii_digit);
            digit(i) && (i == 0 || !digit(i - 1))
        })
        .find_map(|i| six_numbers(text.get(i..)?))
}

fn six_numbers(text: &[u8]) -> Option<([u8; 4], u16)> {
    let mut numbers = [0u8; 6];
    let mut rest = text;
    for (k, n) in numbers.iter_mut().enumerate() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let value: u16 = std::str::from_utf8(rest.get(..digits)?)
            .ok()?
            .parse()
            .ok()?;
        *n = u8::try_from(value).ok()?;
        rest = rest.get(digits..)?;
        if k < 5 {
            rest = rest.strip_prefix(b",")?;
        }
    }
    let [a, b, c, d, high, low] = numbers;
    Some(([a, b, c, d], u16::from(high) << 8 | u16::from(low)))
}

/// The port of a 229 reply: `(` then a delimiter three times, the port, the delimiter.
fn epsv(line: &[u8]) -> Option<u16> {
    let open = line.iter().position(|b| *b == b'(')?;
    let inside = line.get(open + 1..)?;
    let delimiter = *inside.first()?;
    let port = inside.strip_prefix(&[delimiter; 3])?;
    let digits = port.iter().take_while(|b| b.is_ascii_digit()).count();
    if port.get(digits) != Some(&delimiter) {
        return None;
    }
    std::str::from_utf8(port.get(..digits)?).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_replies_announce_their_endpoint() {
        assert_eq!(
            announced(
                21,
                b"227 Entering Passive Mode (199,233,217,249,221,90)\r\n"
            ),
            Announced::v4([199, 233, 217, 249], 221 << 8 | 90)
        );
        assert_eq!(
            announced(
                21,
                b"227 Entering Passive Mode (205,167,25,101,243,251).\r\n"
            ),
            Announced::v4([205, 167, 25, 101], 243 << 8 | 251)
        );
        // Without parentheses, as RFC 1123 allows.
        assert_eq!(
            announced(21, b"227 =127,0,0,1,4,1\r\n"),
            Announced::v4([127, 0, 0, 1], 1025)
        );
        assert_eq!(
            announced(21, b"229 Entering Extended Passive Mode (|||60931|)\r\n"),
            Announced::port(60931)
        );
        // A later line of the segment.
        assert_eq!(
            announced(21, b"200 OK\r\n229 Extended (!!!5000!)\r\n"),
            Announced::port(5000)
        );
    }

    #[test]
    fn anything_else_announces_nothing() {
        for (port, payload) in [
            (21, &b"227 Response to PASV command\r\n"[..]),
            (21, b"227 (300,1,1,1,1,1)"),
            (21, b"229 (|||99999|)"),
            (21, b"229 (||60931|)"),
            (21, b"150 Opening data connection\r\n"),
            (21, b"PORT 10,0,0,200,78,33\r\n"),
            (2121, b"227 Entering Passive Mode (1,2,3,4,5,6)"),
            (21, b""),
        ] {
            assert_eq!(announced(port, payload), Announced::NOTHING, "{payload:?}");
        }
    }

    #[test]
    fn the_endpoint_of_a_229_is_at_the_server() {
        let server = Addr::v4([10, 0, 0, 1], 21);
        assert_eq!(
            Announced::port(5000).endpoint(server),
            Some(Addr::v4([10, 0, 0, 1], 5000))
        );
        assert_eq!(Announced::NOTHING.endpoint(server), None);
    }
}
