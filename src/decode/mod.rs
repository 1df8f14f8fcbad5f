//! Decode layer: link header → IP → TCP, for the link types of loopback and LAN captures.
//! One `Decoder` per capture takes frame after frame: each gives a segment, or is held (a
//! fragment of an IPv4 datagram not yet complete), or is skipped with its reason; at the
//! end, `finish` tells the frames of datagrams never completed.
//!
//! `etherparse` reads Ethernet, VLAN tags, IPv4 with options and IPv6 with extension headers;
//! the link headers it has no lax entry point for (BSD NULL/LOOP, Linux SLL and SLL2) are
//! a few bytes each and are read here.

mod addr;
pub mod encap;
mod fast;
mod ftp;
mod link;
mod preview;
mod reassembly;
mod seq;
mod tunnel;
mod wifi;

pub use addr::{Addr, write_address, write_ip};
pub use ftp::Announced;
pub use preview::Preview;
pub use reassembly::Unfinished;
pub use seq::Seq;

use std::borrow::Cow;
use std::fmt;

use etherparse::{
    IpNumber, Ipv6ExtensionSlice, LaxNetSlice, LaxSlicedPacket, TcpSlice, TransportSlice,
};

use crate::capture::Frame;
use link::Next;
use reassembly::{Fragment, Reassembler};

/// TCP header flags, bit positions as on the wire (AE is the former NS bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const AE: u16 = 0x100;

    /// Names in the order of Wireshark's Info column.
    const NAMES: [(u16, &'static str); 9] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
        (Self::AE, "AE"),
    ];

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.has(*bit))
            .map(|(_, name)| name)
    }
}

/// A TCP segment as seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: Addr,
    pub dst: Addr,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: TcpFlags,
    /// Raw window field, before any scaling.
    pub window: u16,
    /// Shift count of a Window Scale option, when the segment carries one.
    pub window_scale: Option<u8>,
    /// The MPTCP options the segment carries, one bit per subtype (bit n for subtype n,
    /// MP_CAPABLE 0 to MP_FASTCLOSE 7): Wireshark's duplicate-ACK rule reads them.
    pub mptcp: u8,
    /// Payload length the IP header claims, also when the snap length cut the bytes.
    pub len: u32,
    /// The IP packet's length as its header gives it (IPv6: its payload and 40 bytes of
    /// fixed header), or as it was on the wire where the header leaves it 0: Zeek's
    /// `ip_bytes` count it.
    pub ip_len: u32,
    /// The payload's first bytes, as far as they were captured.
    pub preview: Preview,
    /// The data connection an FTP passive-mode reply in the payload announces.
    pub announces: Announced,
    /// The IPv4 identification and the TCP checksum: equal in two copies of one packet (a
    /// capture on Linux's `any` sees loopback packets twice), different in a retransmission.
    pub copy_id: u32,
    /// Whether the capturing host sent or received the frame, where the link header says.
    pub link_dir: LinkDir,
    /// Wireshark stopped reading the TCP header: the snap length cut it (its options, or
    /// its last fixed bytes), its length field is under 20 bytes, or an option could not be
    /// read. It then never shows the segment's analysis flags, and what the unread options
    /// held stays unknown (a SYN's missing window scale included).
    pub header_cut: bool,
}

/// The direction a link header records (Linux cooked captures: `tcpdump -i any` marks
/// each packet `Out` or `In`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkDir {
    #[default]
    Unknown,
    Outgoing,
    Incoming,
}

impl Segment {
    /// A placeholder to decode into.
    pub const EMPTY: Segment = Segment {
        src: Addr::UNSPECIFIED,
        dst: Addr::UNSPECIFIED,
        seq: Seq(0),
        ack: Seq(0),
        flags: TcpFlags(0),
        window: 0,
        window_scale: None,
        mptcp: 0,
        len: 0,
        ip_len: 0,
        preview: Preview::EMPTY,
        announces: Announced::NOTHING,
        copy_id: 0,
        link_dir: LinkDir::Unknown,
        header_cut: false,
    };
}

/// Why a frame yields no segment. Each is counted; none stops the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// IP, but not TCP (UDP, ICMP, …).
    NotTcp,
    /// A TCP header read only as far as its 4-tuple (the decoder reads the frame again:
    /// `Decoded::HeaderOnly`; never handed out).
    HeaderOnly,
    /// An IPComp payload (the decoder reads the frame again and inflates it; never handed
    /// out).
    Compressed,
    /// Not IP at all (ARP, LLDP, …).
    NotIp,
    /// A fragment of a larger IP datagram (its datagram is decoded when complete).
    IpFragment,
    /// What the frame holds is named by a number synfin does not decode (or is encrypted).
    Undecoded(Via),
    /// The frame ends inside the named header.
    Truncated(Layer),
    /// The named header holds values no stack would send.
    Malformed(Layer),
}

/// Where decoding stopped: the kind of number that names what follows, and the number,
/// which `encap`'s table lacks (or a header synfin reads but cannot look into).
///
/// A kind and a 4-byte number, so that a `Skip` is 8 bytes as it always was: shaped
/// otherwise (a string, an enum of small numbers), the compiler writes a link header's
/// `Result` in pieces and reads it back whole, a stall that cost the per-packet loop
/// 11-18 ns a frame (bench and whole runs, alternated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Via {
    pub what: Stop,
    pub number: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stop {
    LinkType,
    EtherType,
    PppProtocol,
    LlcSap,
    /// A BSD (or Linux) address family in a link header.
    Family,
    /// The organisation of an 802.2 SNAP header.
    SnapOui,
    FrameRelayNlpid,
    ErfType,
    VxlanGpeProtocol,
    TzspEncapsulation,
    CapwapBinding,
    /// IPComp's compression algorithm (CPI): only DEFLATE (2) is read, as Wireshark reads.
    IpcompAlgorithm,
    // Headers read whose content is out of reach (no number).
    WifiEncrypted,
    WifiAmsdu,
    CapwapDtls,
    CapwapFragment,
    L2tpv3,
}

impl Skip {
    /// A frame that stopped at `number`, of the kind `what`.
    pub fn at(what: Stop, number: impl Into<u32>) -> Skip {
        Skip::Undecoded(Via {
            what,
            number: number.into(),
        })
    }

    /// A frame whose content synfin cannot look into.
    pub fn unread(what: Stop) -> Skip {
        Skip::at(what, 0u32)
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.number;
        match self.what {
            Stop::LinkType => write!(f, "link type {n}"),
            Stop::EtherType => write!(f, "EtherType 0x{n:04x}"),
            Stop::PppProtocol => write!(f, "PPP protocol 0x{n:04x}"),
            Stop::LlcSap => write!(f, "802.2 LLC SAP 0x{n:02x}"),
            Stop::Family => write!(f, "address family {n}"),
            Stop::SnapOui => {
                let [_, a, b, c] = n.to_be_bytes();
                write!(f, "802.2 SNAP OUI {a:02x}-{b:02x}-{c:02x}")
            }
            Stop::FrameRelayNlpid => write!(f, "Frame Relay NLPID 0x{n:02x}"),
            Stop::ErfType => write!(f, "ERF record type {n}"),
            Stop::VxlanGpeProtocol => write!(f, "VXLAN-GPE next protocol {n}"),
            Stop::TzspEncapsulation => write!(f, "TZSP encapsulation {n}"),
            Stop::CapwapBinding => write!(f, "CAPWAP wireless binding {n}"),
            Stop::IpcompAlgorithm => write!(f, "IPComp algorithm {n}"),
            Stop::WifiEncrypted => f.write_str("802.11 encrypted data"),
            Stop::WifiAmsdu => f.write_str("802.11 A-MSDU (several packets in one frame)"),
            Stop::CapwapDtls => f.write_str("CAPWAP DTLS (encrypted)"),
            Stop::CapwapFragment => f.write_str("CAPWAP fragment"),
            Stop::L2tpv3 => f.write_str("L2TPv3 over UDP"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Link,
    Ip,
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link-layer",
            Layer::Ip => "IP",
            Layer::Tcp => "TCP",
        })
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotTcp | Skip::HeaderOnly | Skip::Compressed => f.write_str("IP but not TCP"),
            Skip::NotIp => f.write_str("not IP"),
            Skip::IpFragment => f.write_str("IP or CAPWAP fragments never completed"),
            Skip::Undecoded(via) => write!(f, "{via} not decoded"),
            Skip::Truncated(layer) => write!(f, "{layer} header cut short"),
            Skip::Malformed(layer) => write!(f, "malformed {layer} header"),
        }
    }
}

/// Encapsulations within encapsulations beyond this are taken for hostile input.
const MAX_NESTING: u8 = 16;

/// What one frame gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'d> {
    /// A TCP segment: the frame's own, or the one in the datagram whose last fragment the
    /// frame carried.
    Segment(&'d Segment),
    /// A fragment of an IPv4 datagram not yet complete, held until its other pieces come.
    Held,
    /// No segment, and why.
    Skipped(Skip),
    /// A TCP header that gives no segment but does give Wireshark a conversation.
    HeaderOnly(HeaderOnly),
}

/// A TCP header Wireshark reads only as far as its conversation, never as a segment: one an
/// ICMP error quotes (16 bytes or more of it), or one longer than the bytes that carry it.
/// Its 4-tuple takes a `tcp.stream` number when new, and so does its SYN when the number
/// differs from the one its direction began with (the 4-tuple was reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderOnly {
    pub src: Addr,
    pub dst: Addr,
    /// The sequence number, for a SYN without ACK.
    pub syn: Option<Seq>,
    /// How the frame is counted among those without a segment.
    pub skip: Skip,
}

impl HeaderOnly {
    /// Reads the first 16 bytes or more of a TCP header (`None` for fewer), sent from
    /// `src_ip` to `dst_ip` (port 0).
    fn read(src_ip: Addr, dst_ip: Addr, tcp: &[u8], skip: Skip) -> Option<HeaderOnly> {
        if tcp.len() < 16 {
            return None;
        }
        let flags = flags_of(tcp);
        let syn = (flags.syn() && !flags.ack()).then(|| link::be32(tcp, 4).map(Seq));
        Some(HeaderOnly {
            src: src_ip.at(link::be16(tcp, 0)?),
            dst: dst_ip.at(link::be16(tcp, 2)?),
            syn: syn.flatten(),
            skip,
        })
    }
}

/// Decodes the frames of one capture, in order, reassembling fragmented IPv4 datagrams as
/// Wireshark does: a datagram's segment belongs to the frame that completes it.
pub struct Decoder {
    /// The segment, decoded in place frame after frame: moving a segment costs more than
    /// it seems.
    segment: Segment,
    reassembler: Reassembler,
    /// An IPComp payload, inflated.
    inflated: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            segment: Segment::EMPTY,
            reassembler: Reassembler::default(),
            inflated: Vec::new(),
        }
    }
}

impl Decoder {
    /// Never inlined: in a caller's per-packet loop the reassembly path, though almost never
    /// taken, changes how the whole loop is compiled (10-13 ns a packet in the bench); as a
    /// call of its own it costs a call.
    #[inline(never)]
    pub fn decode(&mut self, frame: &Frame<'_>) -> Decoded<'_> {
        match decode_into(frame, &mut self.segment) {
            Ok(()) => Decoded::Segment(&self.segment),
            Err(Skip::Compressed) => match compressed(frame) {
                Ok(c) => self.inflate(&c),
                Err(skip) => Decoded::Skipped(skip),
            },
            Err(Skip::HeaderOnly) => match header_only(frame) {
                Some(header) => Decoded::HeaderOnly(header),
                None => Decoded::Skipped(Skip::Malformed(Layer::Tcp)),
            },
            Err(Skip::IpFragment) => {
                let Some(piece) = fragment(frame) else {
                    return Decoded::Skipped(Skip::IpFragment);
                };
                let Some(packet) = self.reassembler.add(&piece, frame.number) else {
                    return Decoded::Held;
                };
                let next = match piece.key {
                    (_, _, id, _, reassembly::CAPWAP) => wifi::capwap_payload(id >> 16, &packet),
                    _ => Ok(Next::Ip(&packet)),
                };
                let next = match next {
                    Ok(next) => next,
                    Err(skip) => return Decoded::Skipped(skip),
                };
                match walk(next, 0) {
                    Ok(whole) => {
                        self.segment = whole;
                        Decoded::Segment(&self.segment)
                    }
                    Err(Found::HeaderOnly(header)) => Decoded::HeaderOnly(header),
                    Err(Found::Compressed(c)) => self.inflate(&c),
                    Err(Found::Skip(skip)) => Decoded::Skipped(skip),
                    Err(Found::Fragment(_)) => Decoded::Skipped(Skip::IpFragment),
                }
            }
            Err(skip) => Decoded::Skipped(skip),
        }
    }

    /// The segment in an IPComp payload, inflated into the decoder's buffer.
    fn inflate(&mut self, c: &Compressed<'_>) -> Decoded<'_> {
        match decompress(c, &mut self.inflated, &mut self.segment) {
            Ok(()) => Decoded::Segment(&self.segment),
            Err(skip) => Decoded::Skipped(skip),
        }
    }

    /// How many bytes the last IPComp payload inflated to (0 before any).
    pub fn inflated_len(&self) -> usize {
        self.inflated.len()
    }

    /// The frames whose fragments never made a datagram (given up, or still waiting at the
    /// end of the capture): how many, and the first.
    pub fn finish(&self) -> Unfinished {
        self.reassembler.unfinished()
    }
}

/// Decodes one frame down to its TCP segment, written into `out` (which is left as it was
/// when there is none): the segment is built where it is used, never moved.
fn decode_into(frame: &Frame<'_>, out: &mut Segment) -> Result<(), Skip> {
    if let Some(done) = fast::plain(frame.linktype, frame.data, out) {
        done?;
    } else {
        let next = link::strip(frame.linktype, frame.data)?;
        // Bytes the snap length cut off: an IP length may claim these, but no more.
        let missing = usize::try_from(frame.orig_len)
            .unwrap_or(usize::MAX)
            .saturating_sub(frame.data.len());
        *out = general(next, missing)?;
    }
    out.link_dir = link::direction(frame.linktype, frame.data);
    Ok(())
}

/// The IPComp payload in the frame (at any depth of tunnels).
fn compressed<'a>(frame: &Frame<'a>) -> Result<Compressed<'a>, Skip> {
    let next = link::strip(frame.linktype, frame.data)?;
    match walk(next, 0) {
        Err(Found::Compressed(c)) => Ok(c),
        Err(Found::Skip(skip)) => Err(skip),
        _ => Err(Skip::NotTcp),
    }
}

/// The TCP header read only as far as its 4-tuple in the frame (at any depth of tunnels).
fn header_only(frame: &Frame<'_>) -> Option<HeaderOnly> {
    let next = link::strip(frame.linktype, frame.data).ok()?;
    let missing = usize::try_from(frame.orig_len)
        .unwrap_or(usize::MAX)
        .saturating_sub(frame.data.len());
    match walk(next, missing) {
        Err(Found::HeaderOnly(header)) => Some(header),
        _ => None,
    }
}

/// The piece of a fragmented IPv4 datagram a frame carries (at any depth of tunnels), for
/// the reassembler; `None` when the frame holds none.
fn fragment<'a>(frame: &Frame<'a>) -> Option<Fragment<'a>> {
    let next = link::strip(frame.linktype, frame.data).ok()?;
    match walk(next, 0) {
        Err(Found::Fragment(f)) => Some(f),
        _ => None,
    }
}

/// Any encapsulation, down to the TCP segment.
fn general(next: Next<'_>, missing: usize) -> Result<Segment, Skip> {
    walk(next, missing).map_err(|found| match found {
        Found::Skip(skip) => skip,
        Found::Fragment(_) => Skip::IpFragment,
        Found::HeaderOnly(_) => Skip::HeaderOnly,
        Found::Compressed(_) => Skip::Compressed,
    })
}

/// What stops the walk down the encapsulations short of a segment.
enum Found<'a> {
    Skip(Skip),
    Fragment(Fragment<'a>),
    HeaderOnly(HeaderOnly),
    Compressed(Compressed<'a>),
}

impl From<Skip> for Found<'_> {
    fn from(skip: Skip) -> Self {
        Found::Skip(skip)
    }
}

fn walk(mut next: Next<'_>, missing: usize) -> Result<Segment, Found<'_>> {
    for _ in 0..MAX_NESTING {
        let packet = match next {
            Next::Ethernet(data) => {
                LaxSlicedPacket::from_ethernet(data).map_err(|_| Skip::Truncated(Layer::Link))?
            }
            Next::Ether(ether_type, data) => LaxSlicedPacket::from_ether_type(ether_type, data),
            Next::Ip(data) => {
                LaxSlicedPacket::from_ip(data).map_err(|_| Skip::Truncated(Layer::Ip))?
            }
            Next::Wifi(data) => {
                next = wifi::ieee80211(data)?;
                continue;
            }
        };
        next = match inner(&packet, missing)? {
            Inner::Tcp(segment) => return Ok(segment),
            Inner::Next(n) => n,
            Inner::Fragment(f) => return Err(Found::Fragment(f)),
            Inner::HeaderOnly(header) => return Err(Found::HeaderOnly(header)),
            Inner::Compressed(c) => return Err(Found::Compressed(c)),
        };
    }
    Err(Skip::Malformed(Layer::Link).into())
}

enum Inner<'a> {
    Tcp(Segment),
    Next(Next<'a>),
    Fragment(Fragment<'a>),
    HeaderOnly(HeaderOnly),
    Compressed(Compressed<'a>),
}

/// The TCP segment in a sliced packet, or the encapsulated packet to look into next.
fn inner<'a>(packet: &LaxSlicedPacket<'a>, missing: usize) -> Result<Inner<'a>, Skip> {
    if packet.net.is_none()
        && let Some(ether) = packet.ether_payload()
        && packet.stop_err.is_none()
    {
        return tunnel::ether_payload(ether.ether_type, ether.payload).map(Inner::Next);
    }
    let Some(payload) = packet.ip_payload() else {
        return tcp_in(packet, missing);
    };
    if payload.fragmented {
        return match &packet.net {
            Some(net) if !payload.incomplete => fragment_of(net, payload.payload)
                .map(Inner::Fragment)
                .ok_or(Skip::IpFragment),
            _ => Err(Skip::IpFragment),
        };
    }
    match payload.ip_number {
        IpNumber::TCP => tcp_in(packet, missing),
        IpNumber::UDP => match &packet.transport {
            Some(TransportSlice::Udp(udp)) => {
                match tunnel::udp(udp.source_port(), udp.destination_port(), udp.payload()) {
                    Err(Skip::Undecoded(Via {
                        what: Stop::CapwapFragment,
                        ..
                    })) => capwap_fragment_of(packet.net.as_ref(), udp.payload())
                        .map(Inner::Fragment)
                        .ok_or(Skip::unread(Stop::CapwapFragment)),
                    other => other.map(Inner::Next),
                }
            }
            _ => Err(Skip::NotTcp),
        },
        IpNumber::ICMP | IpNumber::IPV6_ICMP => quoted_tcp(payload.payload, payload.ip_number)
            .map(Inner::HeaderOnly)
            .ok_or(Skip::NotTcp),
        other => match tunnel::ip_payload(other.0, payload.payload) {
            Err(Skip::Compressed) => {
                compressed_of(packet.net.as_ref(), payload.payload).map(Inner::Compressed)
            }
            next => next.map(Inner::Next),
        },
    }
}

/// An IPComp payload (RFC 3173): the protocol it holds, and its DEFLATE-compressed bytes,
/// with the addresses and identification of the IP header around it.
pub struct Compressed<'a> {
    src: Addr,
    dst: Addr,
    ip_id: u16,
    next_header: u8,
    deflated: &'a [u8],
}

/// The IP header's addresses (port 0) and identification (0 for IPv6).
fn ip_ends(net: &LaxNetSlice<'_>) -> Option<(Addr, Addr, u16)> {
    match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let (src, dst) = (Addr::v4(h.source(), 0), Addr::v4(h.destination(), 0));
            Some((src, dst, h.identification()))
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            Some((Addr::v6(h.source(), 0), Addr::v6(h.destination(), 0), 0))
        }
        LaxNetSlice::Arp(_) => None,
    }
}

/// The IP header's addresses as a reassembly key holds them (IPv4's in the first 4 bytes).
fn key_addresses(net: &LaxNetSlice<'_>) -> Option<([u8; 16], [u8; 16])> {
    match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let (mut src, mut dst) = ([0; 16], [0; 16]);
            src.get_mut(..4)?.copy_from_slice(&h.source());
            dst.get_mut(..4)?.copy_from_slice(&h.destination());
            Some((src, dst))
        }
        LaxNetSlice::Ipv6(ip) => Some((ip.header().source(), ip.header().destination())),
        LaxNetSlice::Arp(_) => None,
    }
}

/// Wireshark inflates IPComp's DEFLATE payloads by default (`ipcomp.decompress`) and reads
/// what they hold; other algorithms are counted.
fn compressed_of<'a>(
    net: Option<&LaxNetSlice<'_>>,
    ipcomp: &'a [u8],
) -> Result<Compressed<'a>, Skip> {
    const DEFLATE: u16 = 2;
    let (src, dst, ip_id) = net.and_then(ip_ends).ok_or(Skip::NotIp)?;
    let next_header = *ipcomp.first().ok_or(Skip::Truncated(Layer::Ip))?;
    let cpi = link::be16(ipcomp, 2).ok_or(Skip::Truncated(Layer::Ip))?;
    if cpi != DEFLATE {
        return Err(Skip::at(Stop::IpcompAlgorithm, cpi));
    }
    Ok(Compressed {
        src,
        dst,
        ip_id,
        next_header,
        deflated: ipcomp.get(4..).unwrap_or_default(),
    })
}

/// Inflates `c` into `into` (at most an IP datagram's 65,535 bytes), then decodes the TCP
/// segment, or the IP packet holding one, that it held.
fn decompress(c: &Compressed<'_>, into: &mut Vec<u8>, out: &mut Segment) -> Result<(), Skip> {
    const TCP: u8 = 6;
    const IPV4: u8 = 4;
    const IPV6: u8 = 41;
    const MAX: usize = 65_535;
    // Raw DEFLATE, as RFC 2394 sends it; Wireshark also takes a zlib stream.
    let inflated = [false, true].into_iter().any(|zlib_header| {
        into.clear();
        into.reserve(MAX);
        let mut inflater = flate2::Decompress::new(zlib_header);
        matches!(
            inflater.decompress_vec(c.deflated, into, flate2::FlushDecompress::Finish),
            Ok(flate2::Status::StreamEnd)
        )
    });
    if !inflated {
        return Err(Skip::Malformed(Layer::Ip));
    }
    match c.next_header {
        TCP => tcp_segment(c.src, c.dst, c.ip_id, into, into.len(), out),
        IPV4 | IPV6 => {
            *out = general(Next::Ip(into), 0)?;
            Ok(())
        }
        _ => Err(Skip::NotTcp),
    }
}

/// The TCP header that an ICMP or ICMPv6 error message quotes, when it quotes its first 16
/// bytes or more: Wireshark reads a quoted header that far (as it reads a cut one) and so
/// opens a conversation for it.
fn quoted_tcp(icmp: &[u8], protocol: IpNumber) -> Option<HeaderOnly> {
    const TCP: u8 = 6;
    // Destination unreachable, source quench, redirect, time exceeded, parameter problem;
    // ICMPv6's destination unreachable, packet too big, time exceeded, parameter problem.
    let error = match protocol {
        IpNumber::ICMP => matches!(icmp.first()?, 3 | 4 | 5 | 11 | 12),
        _ => matches!(icmp.first()?, 1..=4),
    };
    let quoted = icmp.get(8..)?;
    let version = if protocol == IpNumber::ICMP { 4 } else { 6 };
    if !error || quoted.first()? >> 4 != version {
        return None;
    }
    let (src, dst, tcp) = match version {
        4 => {
            let header_len = usize::from(quoted.first()? & 0x0f) * 4;
            let not_first_fragment = link::be16(quoted, 6)? & 0x1fff != 0;
            if *quoted.get(9)? != TCP || header_len < 20 || not_first_fragment {
                return None;
            }
            let src: [u8; 4] = quoted.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = quoted.get(16..20)?.try_into().ok()?;
            (
                Addr::v4(src, 0),
                Addr::v4(dst, 0),
                quoted.get(header_len..)?,
            )
        }
        _ => {
            if *quoted.get(6)? != TCP {
                return None;
            }
            let src: [u8; 16] = quoted.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = quoted.get(24..40)?.try_into().ok()?;
            (Addr::v6(src, 0), Addr::v6(dst, 0), quoted.get(40..)?)
        }
    };
    HeaderOnly::read(src, dst, tcp, Skip::NotTcp)
}

/// The piece of a CAPWAP data payload that a fragment carries, keyed as Wireshark keys it:
/// the outer addresses and the fragment ID (the IP version 0 marks CAPWAP's).
fn capwap_fragment_of<'a>(net: Option<&LaxNetSlice<'_>>, capwap: &'a [u8]) -> Option<Fragment<'a>> {
    let (src, dst) = key_addresses(net?)?;
    let (id, offset, more, kind, piece) = wifi::capwap_fragment(capwap)?;
    Some(Fragment {
        key: (
            src,
            dst,
            (kind << 16) | u32::from(id),
            0,
            reassembly::CAPWAP,
        ),
        offset,
        more,
        header: Vec::new(),
        payload: Cow::Borrowed(piece),
    })
}

/// The piece of a datagram a fragment carries: after IPv4's header, or after IPv6's
/// Fragment header (etherparse reads on past it, through the first fragment's later
/// extension headers, which belong to the datagram's payload).
fn fragment_of<'a>(net: &LaxNetSlice<'a>, after_headers: &'a [u8]) -> Option<Fragment<'a>> {
    match net {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let (src, dst) = key_addresses(net)?;
            Some(Fragment {
                key: (src, dst, u32::from(h.identification()), h.protocol().0, 4),
                offset: u32::from(h.fragments_offset().value()) * 8,
                more: h.more_fragments(),
                header: h.slice().to_vec(),
                payload: Cow::Borrowed(after_headers),
            })
        }
        LaxNetSlice::Ipv6(ip) => {
            let extensions = ip.extensions().slice();
            let mut at = 0;
            let mut found = None;
            for ext in ip.extensions().clone() {
                let len = match &ext {
                    Ipv6ExtensionSlice::HopByHop(e)
                    | Ipv6ExtensionSlice::Routing(e)
                    | Ipv6ExtensionSlice::DestinationOptions(e) => e.slice().len(),
                    Ipv6ExtensionSlice::Fragment(e) => e.slice().len(),
                    Ipv6ExtensionSlice::Authentication(e) => e.slice().len(),
                };
                at += len;
                if let Ipv6ExtensionSlice::Fragment(f) = ext {
                    found = Some(f);
                    break;
                }
            }
            let f = found?;
            let later = extensions.get(at..)?;
            let payload = if later.is_empty() {
                Cow::Borrowed(after_headers)
            } else {
                Cow::Owned([later, after_headers].concat())
            };
            let h = ip.header();
            let mut header = h.slice().to_vec();
            *header.get_mut(6)? = f.next_header().0;
            Some(Fragment {
                key: (
                    h.source(),
                    h.destination(),
                    f.identification(),
                    f.next_header().0,
                    6,
                ),
                offset: u32::from(f.fragment_offset().value()) * 8,
                more: f.more_fragments(),
                header,
                payload,
            })
        }
        LaxNetSlice::Arp(_) => None,
    }
}

/// The TCP segment in an IP packet, or the header that is all Wireshark reads of it.
fn tcp_in<'a>(packet: &LaxSlicedPacket<'_>, missing: usize) -> Result<Inner<'a>, Skip> {
    // Addresses, and the payload length the IP header claims (used when the bytes were cut;
    // `None` where the header leaves it to the wire).
    let net = match &packet.net {
        Some(net) => net,
        None => {
            return Err(match &packet.stop_err {
                Some((_, etherparse::err::Layer::Ethernet2Header)) => Skip::Truncated(Layer::Link),
                Some((etherparse::err::packet::SliceError::Len(_), _)) => {
                    Skip::Truncated(Layer::Ip)
                }
                Some(_) => Skip::Malformed(Layer::Ip),
                None => Skip::NotIp,
            });
        }
    };
    let (src_ip, dst_ip, ip_id) = ip_ends(net).ok_or(Skip::NotIp)?;
    // The IP headers' length, and the packet's length as its header gives it: `None` where
    // the header leaves it to the wire, as a segmentation offload's (TSO: an IPv4 total
    // length of 0) or a jumbogram's (BIG TCP: an IPv6 payload length of 0) does. Like
    // Wireshark, the frame's length on the wire is then taken instead.
    let (headers, total) = match net {
        LaxNetSlice::Ipv4(ip) => {
            let total = ip.header().total_len();
            (
                ip.header().slice().len(),
                (total != 0).then_some(usize::from(total)),
            )
        }
        LaxNetSlice::Ipv6(ip) => {
            let len = ip.header().payload_length();
            let headers = 40 + ip.extensions().slice().len();
            (headers, (len != 0).then_some(40 + usize::from(len)))
        }
        LaxNetSlice::Arp(_) => (0, None),
    };
    // The payload length the IP header claims (used when the bytes were cut).
    let header_claim = total.map(|total| total.saturating_sub(headers));
    let Some(payload) = packet.ip_payload() else {
        return Err(Skip::NotIp);
    };
    let ip_len = total.unwrap_or_else(|| headers + payload.payload.len().saturating_add(missing));
    let claimed_len = match header_claim {
        None => usize::MAX,
        Some(claim) if payload.incomplete => claim,
        Some(_) => payload.payload.len(),
    };
    // Like Wireshark, trust the IP length only as far as the frame on the wire reached.
    let claimed_len = claimed_len.min(payload.payload.len().saturating_add(missing));
    if payload.ip_number != IpNumber::TCP {
        return Err(Skip::NotTcp);
    }
    if payload.fragmented {
        return Err(Skip::IpFragment);
    }
    let mut segment = Segment::EMPTY;
    match tcp_segment(
        src_ip,
        dst_ip,
        ip_id,
        payload.payload,
        claimed_len,
        &mut segment,
    ) {
        Ok(()) => {
            segment.ip_len = u32::try_from(ip_len).unwrap_or(u32::MAX);
            Ok(Inner::Tcp(segment))
        }
        Err(Skip::HeaderOnly) => {
            HeaderOnly::read(src_ip, dst_ip, payload.payload, Skip::Malformed(Layer::Tcp))
                .map(Inner::HeaderOnly)
                .ok_or(Skip::Malformed(Layer::Tcp))
        }
        Err(skip) => Err(skip),
    }
}

/// The segment in `ip_payload`, the IP header's addresses (port 0) and claimed payload
/// length given.
fn tcp_segment(
    src_ip: Addr,
    dst_ip: Addr,
    ip_id: u16,
    ip_payload: &[u8],
    claimed_len: usize,
    out: &mut Segment,
) -> Result<(), Skip> {
    // A header cut short, or whose length is under 20 bytes: read as Wireshark reads it.
    let Ok(tcp) = TcpSlice::from_slice(ip_payload) else {
        *out = cut_header(src_ip, dst_ip, ip_id, ip_payload, claimed_len)?;
        return Ok(());
    };
    let header_len = tcp.header_slice().len();
    let raw = tcp.header_slice();
    let options = read_options(raw.get(20..).unwrap_or_default());
    let len = claimed_len.saturating_sub(header_len);
    let payload = tcp.payload();
    *out = Segment {
        src: src_ip.at(tcp.source_port()),
        dst: dst_ip.at(tcp.destination_port()),
        seq: Seq(tcp.sequence_number()),
        ack: Seq(tcp.acknowledgment_number()),
        flags: flags_of(raw),
        window: tcp.window_size(),
        window_scale: options.window_scale,
        mptcp: options.mptcp,
        len: u32::try_from(len).unwrap_or(u32::MAX),
        ip_len: 0,
        preview: Preview::of(payload.get(..len).unwrap_or(payload)),
        announces: ftp::announced(tcp.source_port(), payload.get(..len).unwrap_or(payload)),
        copy_id: u32::from(ip_id) << 16 | u32::from(tcp.checksum()),
        link_dir: LinkDir::Unknown,
        header_cut: options.unreadable,
    };
    Ok(())
}

/// What the analysis reads of a segment's options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Options {
    /// The shift of a Window Scale option.
    window_scale: Option<u8>,
    /// The MPTCP subtypes present, as `Segment::mptcp`.
    mptcp: u8,
    /// An option Wireshark cannot read stopped the walk (an MPTCP option shorter than the
    /// fields of its subtype): Wireshark stops reading the segment there, as at a cut.
    unreadable: bool,
}

/// Whether Wireshark's MPTCP dissector (packet-tcp.c) reads the whole `option` (kind and
/// length included) without running past its end: each subtype reads fields up to a length
/// its flags decide, and past the option it throws, ending the segment's dissection.
fn mptcp_readable(option: &[u8]) -> bool {
    let Some(&subtype) = option.get(2) else {
        return false;
    };
    let needed = match subtype >> 4 {
        // MP_CAPABLE, ADD_ADDR, MP_TCPRST: the byte after the subtype.
        0 | 3 | 8 => 4,
        // DSS: its flags, then the data ACK and the mapping they announce.
        2 => {
            let flags = option.get(3).copied().unwrap_or(0);
            let ack = match (flags & 0x01, flags & 0x02) {
                (0, _) => 0,
                (_, 0) => 4,
                _ => 8,
            };
            let mapping = match (flags & 0x04, flags & 0x08) {
                (0, _) => 0,
                (_, 0) => 4 + 4 + 2,
                _ => 8 + 4 + 2,
            };
            4 + ack + mapping
        }
        // MP_FAIL, MP_FASTCLOSE: 2 reserved bytes, then 8.
        6 | 7 => 12,
        // MP_JOIN (fields only for the lengths that hold them), REMOVE_ADDR, MP_PRIO.
        _ => 3,
    };
    option.len() >= needed
}

/// The options, walked as Wireshark walks them: an option of a kind it does not know is
/// stepped over by its length; a length under 2 or past the end stops the walk; a Window
/// Scale option of the wrong length is not applied.
#[inline]
fn read_options(options: &[u8]) -> Options {
    const END: u8 = 0;
    const NOP: u8 = 1;
    const WINDOW_SCALE: u8 = 3;
    const MPTCP: u8 = 30;
    let mut found = Options::default();
    let mut at = 0;
    while let Some(&kind) = options.get(at) {
        match kind {
            END => return found,
            NOP => at += 1,
            _ => {
                let len = usize::from(options.get(at + 1).copied().unwrap_or(0));
                let Some(option) = options.get(at..at + len).filter(|_| len >= 2) else {
                    return found;
                };
                match (kind, option.get(2)) {
                    (WINDOW_SCALE, shift) if len == 3 => found.window_scale = shift.copied(),
                    // Wireshark reads the MPTCP options' subtypes after the walk, so an
                    // unreadable one leaves none of them read.
                    (MPTCP, _) if !mptcp_readable(option) => {
                        return Options {
                            mptcp: 0,
                            unreadable: true,
                            ..found
                        };
                    }
                    // Subtypes 0 to 7 (MP_CAPABLE … MP_FASTCLOSE) are the ones counted.
                    (MPTCP, Some(&byte)) => {
                        found.mptcp |= 1u8.checked_shl(u32::from(byte >> 4)).unwrap_or(0)
                    }
                    _ => {}
                }
                at += len;
            }
        }
    }
    found
}

/// The nine flag bits of a TCP header (reserved bits and AE left out, as SPEC's flags are).
fn flags_of(header: &[u8]) -> TcpFlags {
    let flags = header
        .get(12..14)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) & 0x01ff)
        .unwrap_or_default();
    TcpFlags(flags)
}

/// A TCP header the snap length cut (`tcpdump -s 64`), or one whose length is bogus. Like
/// Wireshark, the first 16 bytes (ports, numbers, header length, flags, window) are enough
/// for the segment, its length coming from the IP header; a Window Scale option is known
/// only if it was captured whole. Wireshark analyses a segment whose header length is under
/// 20 bytes (even 0) as any other, then stops; a header longer than its datagram gives it
/// a conversation but no segment (`Skip::HeaderOnly`).
fn cut_header(
    src_ip: Addr,
    dst_ip: Addr,
    ip_id: u16,
    ip_payload: &[u8],
    claimed_len: usize,
) -> Result<Segment, Skip> {
    let be16 = |at| link::be16(ip_payload, at).ok_or(Skip::Truncated(Layer::Tcp));
    let be32 = |at| link::be32(ip_payload, at).ok_or(Skip::Truncated(Layer::Tcp));
    let (src_port, dst_port, seq, ack, window) =
        (be16(0)?, be16(2)?, be32(4)?, be32(8)?, be16(14)?);
    let header_len = usize::from(ip_payload.get(12).map_or(0, |b| b >> 4)) * 4;
    if header_len > claimed_len {
        return Err(Skip::HeaderOnly);
    }
    let options = read_options(
        ip_payload
            .get(20..header_len.min(ip_payload.len()))
            .unwrap_or_default(),
    );
    Ok(Segment {
        src: src_ip.at(src_port),
        dst: dst_ip.at(dst_port),
        seq: Seq(seq),
        ack: Seq(ack),
        flags: flags_of(ip_payload),
        window,
        window_scale: options.window_scale,
        mptcp: options.mptcp,
        len: u32::try_from(claimed_len.saturating_sub(header_len)).unwrap_or(u32::MAX),
        ip_len: 0,
        preview: Preview::EMPTY,
        announces: Announced::NOTHING,
        copy_id: u32::from(ip_id) << 16 | u32::from(link::be16(ip_payload, 16).unwrap_or(0)),
        link_dir: LinkDir::Unknown,
        header_cut: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{FrameNo, Linktype, Timestamp};

    /// An Ethernet frame: zero MACs, `ether_type`, then `payload`.
    fn ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0; 12];
        f.extend(ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// IPv4 + TCP with the given IHL and data offset (in 4-byte words) and options.
    fn ipv4_tcp(ihl: u8, data_offset: u8, tcp_options: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut tcp = vec![
            0x30,
            0x39,
            0x00,
            0x50,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            0,
            data_offset << 4,
            0x02,
            0xff,
            0xff,
            0,
            0,
            0,
            0,
        ];
        tcp.extend_from_slice(tcp_options);
        tcp.extend_from_slice(payload);
        let header_len = usize::from(ihl) * 4;
        let total = (header_len.max(20) + tcp.len()) as u16;
        let mut ip = vec![
            0x40 | ihl,
            0,
            0,
            0,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
            127,
            0,
            0,
            1,
            127,
            0,
            0,
            1,
        ];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.resize(header_len.max(20), 0);
        ip.extend(tcp);
        ip
    }

    /// The one frame's segment, decoded by a new decoder.
    fn decode(frame: &Frame<'_>) -> Result<Segment, Skip> {
        match Decoder::default().decode(frame) {
            Decoded::Segment(segment) => Ok(*segment),
            Decoded::Held => Err(Skip::IpFragment),
            Decoded::Skipped(skip) => Err(skip),
            Decoded::HeaderOnly(header) => Err(header.skip),
        }
    }

    fn decode_frame(linktype: Linktype, data: &[u8]) -> Result<Segment, Skip> {
        decode(&Frame {
            number: FrameNo(1),
            ts: Timestamp(0),
            linktype,
            data,
            orig_len: data.len() as u32,
        })
    }

    #[test]
    fn cooked_headers_tell_which_way_a_frame_went() {
        let packet = ipv4_tcp(5, 5, &[], b"hi");
        for (packet_type, dir) in [
            (4u8, LinkDir::Outgoing),
            (0, LinkDir::Incoming),
            (3, LinkDir::Incoming),
            (9, LinkDir::Unknown),
        ] {
            // SLL: packet type (16 bits), ARPHRD, address length, 8 address bytes, protocol.
            let mut sll = vec![0, packet_type, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0];
            sll.extend_from_slice(&packet);
            // SLL2: protocol, reserved, interface index, ARPHRD, packet type, ...
            let mut sll2 = vec![8, 0, 0, 0, 0, 0, 0, 1, 3, 4, packet_type, 6];
            sll2.extend([0; 8]);
            sll2.extend_from_slice(&packet);
            for (linktype, frame) in [(Linktype::LINUX_SLL, sll), (Linktype::LINUX_SLL2, sll2)] {
                let seg = decode_frame(linktype, &frame).expect("a segment");
                assert_eq!(
                    (seg.len, seg.link_dir),
                    (2, dir),
                    "{linktype:?} {packet_type}"
                );
            }
        }
        let seg = decode_frame(Linktype::ETHERNET, &ethernet(0x0800, &packet)).expect("a segment");
        assert_eq!(seg.link_dir, LinkDir::Unknown);
    }

    #[test]
    fn tcp_over_teredo_decodes_with_or_without_an_origin_indication() {
        let mut inner = Vec::new();
        etherparse::PacketBuilder::ipv6([0x20; 16], [0x30; 16], 64)
            .tcp(1286, 80, 7, 1000)
            .syn()
            .write(&mut inner, &[])
            .expect("built");
        let mut origin = vec![0, 0, 0xf2, 0x27, 1, 2, 3, 4];
        origin.extend_from_slice(&inner);
        for payload in [inner.clone(), origin] {
            let mut frame = Vec::new();
            etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
                .ipv4([192, 168, 2, 16], [65, 55, 158, 80], 64)
                .udp(3797, 3544)
                .write(&mut frame, &payload)
                .expect("built");
            let seg = decode_frame(Linktype::ETHERNET, &frame).expect("a segment");
            assert_eq!(
                (seg.src.port(), seg.dst.port(), seg.seq),
                (1286, 80, Seq(7))
            );
            assert!(!seg.src.is_ipv4());
        }
    }

    #[test]
    fn a_plain_segment_decodes_with_its_window_scale() {
        let frame = ethernet(0x0800, &ipv4_tcp(5, 6, &[3, 3, 7, 0], b"hi"));
        let seg = decode_frame(Linktype::ETHERNET, &frame).expect("a segment");
        assert_eq!(
            (seg.src.port(), seg.dst.port(), seg.len, seg.window_scale),
            (12345, 80, 2, Some(7))
        );
        assert!(seg.flags.syn());
    }

    #[test]
    fn impossible_ip_header_lengths_skip_the_frame() {
        // IHL under 5, and an IHL running past the packet.
        for ihl in [0, 4, 15] {
            let frame = ethernet(0x0800, &ipv4_tcp(ihl, 5, &[], &[])[..40]);
            assert!(
                decode_frame(Linktype::ETHERNET, &frame).is_err(),
                "ihl {ihl}"
            );
        }
    }

    #[test]
    fn impossible_tcp_header_lengths_are_read_as_wireshark_reads_them() {
        // Under 20 bytes (even 0): a segment, whose length is the datagram's rest.
        for (offset, len) in [(0, 22), (4, 6)] {
            let frame = ethernet(0x0800, &ipv4_tcp(5, offset, &[], b"hi"));
            let seg = decode_frame(Linktype::ETHERNET, &frame).expect("a segment");
            assert_eq!(
                (seg.len, seg.header_cut, seg.window_scale),
                (len, true, None)
            );
            assert!(seg.flags.syn());
        }
        // Longer than the datagram: only the header's 4-tuple, and the SYN's number.
        let frame = ethernet(0x0800, &ipv4_tcp(5, 15, &[], &[]));
        let Decoded::HeaderOnly(header) = Decoder::default().decode(&Frame {
            number: FrameNo(1),
            ts: Timestamp(0),
            linktype: Linktype::ETHERNET,
            data: &frame,
            orig_len: frame.len() as u32,
        }) else {
            panic!("not read as a header only");
        };
        assert_eq!(
            (
                header.src.port(),
                header.dst.port(),
                header.syn,
                header.skip
            ),
            (12345, 80, Some(Seq(1)), Skip::Malformed(Layer::Tcp))
        );
    }

    #[test]
    fn ipcomp_payloads_are_inflated_or_counted_by_why_not() {
        // IPv4 (protocol 108) with an IPComp header (next header TCP, the given CPI).
        let ipcomp = |cpi: u8, body: &[u8]| {
            let mut ip = vec![
                0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 108, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ];
            ip.extend([6, 0, 0, cpi]);
            ip.extend_from_slice(body);
            let len = ip.len() as u16;
            ip[2..4].copy_from_slice(&len.to_be_bytes());
            ethernet(0x0800, &ip)
        };
        // A TCP segment, deflated with flate2 (the crate synfin inflates with).
        let tcp = &ipv4_tcp(5, 5, &[], b"hi")[20..];
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut deflater, tcp).expect("in memory");
        let deflated = deflater.finish().expect("in memory");
        let seg = decode_frame(Linktype::ETHERNET, &ipcomp(2, &deflated)).expect("inflated");
        assert_eq!((seg.src.port(), seg.dst.port(), seg.len), (12345, 80, 2));
        assert_eq!(
            decode_frame(Linktype::ETHERNET, &ipcomp(2, b"not deflate")),
            Err(Skip::Malformed(Layer::Ip))
        );
        assert_eq!(
            decode_frame(Linktype::ETHERNET, &ipcomp(3, &deflated)),
            Err(Skip::at(Stop::IpcompAlgorithm, 3u16))
        );
    }

    #[test]
    fn broken_options_keep_the_segment() {
        // A zero-length option, and one running off the end of the header.
        for options in [[1, 0, 0, 0], [3, 200, 7, 1]] {
            let frame = ethernet(0x0800, &ipv4_tcp(5, 6, &options, &[]));
            let seg = decode_frame(Linktype::ETHERNET, &frame).expect("kept");
            assert_eq!(seg.window_scale, None);
        }
    }

    #[test]
    fn vlan_tags_nested_deeply_are_followed_and_bounded() {
        let inner = ipv4_tcp(5, 5, &[], &[]);
        let mut payload = inner.clone();
        let mut ether_type = 0x0800u16;
        for _ in 0..6 {
            let mut tagged = vec![0, 1];
            tagged.extend(ether_type.to_be_bytes());
            tagged.extend(payload);
            payload = tagged;
            ether_type = 0x8100;
        }
        assert!(
            decode_frame(Linktype::ETHERNET, &ethernet(ether_type, &payload)).is_ok(),
            "six tags"
        );
        // Each pass strips up to four tags (three by etherparse, one here): 100 is past the
        // bound of MAX_NESTING passes.
        for _ in 0..100 {
            let mut tagged = vec![0, 1];
            tagged.extend(0x8100u16.to_be_bytes());
            tagged.extend(payload);
            payload = tagged;
        }
        let err =
            decode_frame(Linktype::ETHERNET, &ethernet(0x8100, &payload)).expect_err("too deep");
        assert_eq!(err, Skip::Malformed(Layer::Link));
    }

    #[test]
    fn ipv6_extension_chains_that_run_off_are_skipped() {
        // IPv6 with a hop-by-hop header that claims more bytes than the packet has.
        let mut ip = vec![0x60, 0, 0, 0, 0, 16, 0, 64];
        ip.extend([0; 15]);
        ip.push(1);
        ip.extend([0; 15]);
        ip.push(1);
        ip.extend([6, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(decode_frame(Linktype::RAW, &ip).is_err());
    }

    #[test]
    fn mpls_without_a_bottom_label_and_empty_frames_are_skipped() {
        let labels = [0u8, 0, 0, 64].repeat(8);
        assert_eq!(
            decode_frame(Linktype::ETHERNET, &ethernet(0x8847, &labels)),
            Err(Skip::Truncated(Layer::Link))
        );
        for lt in [0, 1, 9, 10, 101, 108, 113, 129, 178, 239, 276] {
            assert!(decode_frame(Linktype(lt), &[]).is_err(), "link type {lt}");
        }
        assert_eq!(
            decode_frame(Linktype(9999), &[1, 2, 3]),
            Err(Skip::at(Stop::LinkType, 9999u32))
        );
    }

    #[test]
    fn frames_that_hold_no_ip_or_cannot_be_read_say_why() {
        let ip = ipv4_tcp(5, 5, &[], b"hi");
        let snap: Vec<u8> = [&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00][..], &ip].concat();
        // An 802.11 data frame (to DS) with `flags`, then LLC/SNAP and the packet.
        let wifi = |fc: u8, flags: u8| [&[fc, flags][..], &[0; 22], &snap].concat();
        let undecoded = |what| Err(Skip::unread(what));
        let lt = Linktype;
        /// What, the link type, the frame, and what decoding it gives.
        type Case = (&'static str, Linktype, Vec<u8>, Result<(), Skip>);
        let cases: [Case; 14] = [
            ("802.11 data", lt(105), wifi(0x08, 0x01), Ok(())),
            (
                "802.11 encrypted",
                lt(105),
                wifi(0x08, 0x41),
                undecoded(Stop::WifiEncrypted),
            ),
            ("802.11 beacon", lt(105), wifi(0x80, 0x00), Err(Skip::NotIp)),
            (
                "802.11 null data",
                lt(105),
                wifi(0x48, 0x01),
                Err(Skip::NotIp),
            ),
            (
                "PPP, 1-byte protocol",
                lt(9),
                [&[0x21][..], &ip].concat(),
                Ok(()),
            ),
            (
                "PPP LCP",
                lt(9),
                vec![0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4],
                Err(Skip::NotIp),
            ),
            (
                "PPP VJ-compressed TCP",
                lt(9),
                vec![0x00, 0x2d, 0, 0],
                Err(Skip::at(Stop::PppProtocol, 0x2du16)),
            ),
            (
                "NULL, family 7",
                lt(0),
                vec![7, 0, 0, 0, 0x45],
                Err(Skip::at(Stop::Family, 7u32)),
            ),
            // netANALYZER: a GPIO event, and a header of version 3.
            (
                "GPIO event",
                lt(240),
                vec![0, 0x01, 0, 0, 1, 2],
                Err(Skip::NotIp),
            ),
            (
                "bad version",
                lt(240),
                vec![0, 0x0c, 0, 0, 1, 2],
                Err(Skip::Malformed(Layer::Link)),
            ),
            // DOCSIS: a packet PDU whose header checksum is wrong.
            (
                "DOCSIS bad HCS",
                lt(143),
                vec![0, 0, 0, 40, 0, 0, 1],
                Err(Skip::Malformed(Layer::Link)),
            ),
            // PKTAP: a record that is not a packet (type 2).
            (
                "PKTAP record",
                lt(258),
                [&[108, 0, 0, 0, 2, 0, 0, 0][..], &[0; 100]].concat(),
                Err(Skip::NotIp),
            ),
            // Ethernet with a length field: spanning tree's LLC, and an unknown SAP.
            (
                "802.3 STP",
                lt(1),
                ethernet(38, &[0x42, 0x42, 0x03, 0, 0]),
                Err(Skip::NotIp),
            ),
            (
                "802.3 SAP 0x80",
                lt(1),
                ethernet(38, &[0x80, 0x80, 0x03, 0, 0]),
                Err(Skip::at(Stop::LlcSap, 0x80u8)),
            ),
        ];
        for (what, linktype, frame, want) in cases {
            let got = decode_frame(linktype, &frame).map(|seg| assert_eq!(seg.len, 2, "{what}"));
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn undecoded_frames_name_what_stopped_them() {
        assert_eq!(
            Skip::at(Stop::EtherType, 0x88b5u16).to_string(),
            "EtherType 0x88b5 not decoded"
        );
        assert_eq!(
            Skip::at(Stop::LinkType, 147u32).to_string(),
            "link type 147 not decoded"
        );
        assert_eq!(
            Skip::at(Stop::LlcSap, 0x42u8).to_string(),
            "802.2 LLC SAP 0x42 not decoded"
        );
    }

    /// An Ethernet frame captured with a snap length of `keep` bytes.
    fn decode_cut(frame: &[u8], keep: usize) -> Result<Segment, Skip> {
        decode(&Frame {
            number: FrameNo(1),
            ts: Timestamp(0),
            linktype: Linktype::ETHERNET,
            data: frame.get(..keep).expect("shorter"),
            orig_len: frame.len() as u32,
        })
    }

    #[test]
    fn a_snap_length_cut_keeps_the_claimed_length_up_to_the_wire_length() {
        let frame = ethernet(0x0800, &ipv4_tcp(5, 5, &[], &[7; 100]));
        let seg = decode_cut(&frame, 60).expect("kept");
        assert_eq!(seg.len, 100);
    }

    #[test]
    fn a_segmentation_offload_s_zero_length_takes_the_wire_s() {
        // TSO: the IPv4 total length left 0; the frame is 100 bytes of data on the wire,
        // captured or cut.
        let mut ip = ipv4_tcp(5, 5, &[], &[7; 100]);
        ip[2..4].copy_from_slice(&[0, 0]);
        let frame = ethernet(0x0800, &ip);
        assert_eq!(decode_cut(&frame, frame.len()).map(|s| s.len), Ok(100));
        assert_eq!(decode_cut(&frame, 60).map(|s| s.len), Ok(100));
    }

    #[test]
    fn a_header_whose_options_were_cut_still_gives_its_segment() {
        // A SYN with MSS, NOP and Window Scale options, 10 bytes of data, cut 4 bytes into
        // the options (Ethernet 14 + IP 20 + TCP 24 = 58 bytes captured).
        let options = [2, 4, 0x05, 0xb4, 1, 3, 3, 7];
        let frame = ethernet(0x0800, &ipv4_tcp(5, 7, &options, &[7; 10]));
        let seg = decode_cut(&frame, 58).expect("kept");
        assert_eq!(seg.src.port(), 12345);
        assert_eq!(seg.dst.port(), 80);
        assert_eq!((seg.seq.0, seg.window), (1, 0xffff));
        assert!(seg.flags.syn() && !seg.flags.ack());
        // The length from the IP header; the Window Scale option was among the lost bytes.
        assert_eq!(
            (seg.len, seg.window_scale, seg.header_cut),
            (10, None, true)
        );
        // Cut after the Window Scale option (and before 4 NOPs), it is known.
        let longer = [2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 1, 1];
        let frame_2 = ethernet(0x0800, &ipv4_tcp(5, 8, &longer, &[7; 10]));
        let seg = decode_cut(&frame_2, 14 + 20 + 28).expect("kept");
        assert_eq!((seg.window_scale, seg.header_cut), (Some(7), true));
        // Wireshark reads as far as the window (16 bytes): 15 are not enough.
        let seg = decode_cut(&frame, 14 + 20 + 16).expect("kept");
        assert_eq!((seg.seq.0, seg.window, seg.len), (1, 0xffff, 10));
        assert_eq!(
            decode_cut(&frame, 14 + 20 + 15),
            Err(Skip::Truncated(Layer::Tcp))
        );
    }

    #[test]
    fn options_are_walked_as_wireshark_walks_them() {
        // Unknown kinds are stepped over by their length; a Window Scale option of the wrong
        // length is not applied; a length under 2 or past the end stops the walk.
        let cases: [(&[u8], Option<u8>); 6] = [
            (&[1, 3, 3, 7], Some(7)),
            (&[202, 10, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 9], Some(9)),
            (&[3, 4, 7, 0, 3, 3, 5], Some(5)),
            (&[8, 1, 3, 3, 7], None),
            (&[8, 30, 3, 3, 7], None),
            (&[0, 3, 3, 7], None),
        ];
        for (options, shift) in cases {
            assert_eq!(read_options(options).window_scale, shift, "{options:?}");
        }
        // MPTCP options: one bit per subtype (DSS 2, ADD_ADDR 3); a subtype past 7 none.
        let mptcp: [(&[u8], u8); 3] = [
            (&[30, 4, 0x20, 0x00, 1, 1], 0b100),
            (&[30, 4, 0x20, 0x00, 30, 8, 0x30, 0, 0, 0, 0, 0], 0b1100),
            (&[30, 3, 0x80], 0),
        ];
        for (options, bits) in mptcp {
            assert_eq!(read_options(options).mptcp, bits, "{options:?}");
        }
        // An MPTCP option shorter than its subtype's fields stops Wireshark's reading, and
        // none of the segment's MPTCP options is counted: a DSS ending before its flags, one
        // announcing a data ACK it does not hold, an MP_FASTCLOSE without its key.
        for short in [
            &[30, 4, 0x20, 0x01, 30, 3, 0x20][..],
            &[30, 6, 0x20, 0x01, 0, 0],
            &[30, 8, 0x70, 0, 0, 0, 0, 0],
        ] {
            let found = read_options(short);
            assert_eq!((found.unreadable, found.mptcp), (true, 0), "{short:?}");
        }
        // What comes before the unreadable option was read.
        assert_eq!(read_options(&[3, 3, 7, 30, 3, 0x20]).window_scale, Some(7));
        // A DSS with a 4-byte data ACK and a mapping with an 8-byte DSN, whole (22 bytes).
        let whole = [
            30, 22, 0x20, 0x0d, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 100,
        ];
        assert!(!read_options(&whole[..]).unreadable);
    }
}
