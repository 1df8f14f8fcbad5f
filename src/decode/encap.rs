//! Every encapsulation synfin looks into, in one table: from the number that names what
//! comes next — a link type, an EtherType, a PPP protocol, a GRE protocol, a UDP port, an
//! IP protocol — to the function that reads that header and says what follows it. Adding
//! one is a line here and a function in `link`, `wifi` or `tunnel`. The entries follow
//! what Wireshark's default configuration decodes on the way to a TCP header; entries that
//! lead to no IP at all are listed too, so that only what synfin really does not know is
//! reported as not decoded. `docs/reference.md` shows this table, written by `markdown`
//! (a test keeps the two equal).

use super::Skip;
use super::link::{self, Next};
use super::tunnel;
use super::wifi;

/// One line of the table, as the documentation shows it.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// What the number is: "link type", "EtherType", …
    pub kind: &'static str,
    /// The numbers, as the table's source spells them.
    pub keys: &'static str,
    pub name: &'static str,
}

/// Builds, for each kind of number, a lookup (a `match`) and the rows of `TABLE`.
macro_rules! encapsulations {
    ($(
        $(#[$doc:meta])*
        fn $lookup:ident($key:ty) is $kind:literal {
            $( $pat:pat => $decode:path, $name:literal; )*
        }
    )*) => {
        $(
            $(#[$doc])*
            pub fn $lookup(key: $key, data: &[u8]) -> Option<Result<Next<'_>, Skip>> {
                Some(match key {
                    $( $pat => $decode(data), )*
                    _ => return None,
                })
            }
        )*

        pub const TABLE: &[Row] = &[$($(
            Row { kind: $kind, keys: stringify!($pat), name: $name },
        )*)*];
    };
}

encapsulations! {
    /// A capture's link type (`LINKTYPE_*`, the tcpdump/libpcap registry).
    fn link_type(u32) is "link type" {
        1 => tunnel::ethernet, "Ethernet";
        0 => link::null, "BSD loopback (NULL), host byte order: macOS lo0";
        108 => link::loop_, "OpenBSD loopback (LOOP), network byte order";
        113 => link::sll, "Linux cooked (SLL): tcpdump -i any";
        276 => link::sll2, "Linux cooked v2 (SLL2)";
        12 | 14 | 101 | 228 | 229 => tunnel::ip, "raw IPv4 or IPv6";
        258 => link::pktap, "Apple PKTAP: tcpdump -i pktap,lo0 on macOS";
        9 | 50 => link::ppp_or_chdlc, "PPP (also HDLC-framed), or Cisco HDLC framing under it";
        104 => link::chdlc, "Cisco HDLC";
        204 => link::ppp_with_dir, "PPP with a direction byte";
        51 => link::pppoe, "PPPoE (PPP_ETHER)";
        107 => link::frame_relay, "Frame Relay (RFC 2427 NLPID)";
        100 | 106 => link::llc, "ATM RFC 1483 / Linux ATM CLIP: 802.2 LLC/SNAP";
        10 => link::fddi, "FDDI";
        6 => link::token_ring, "IEEE 802.5 Token Ring";
        7 => link::arcnet_bsd, "ARCnet (BSD)";
        129 => link::arcnet_linux, "ARCnet (Linux)";
        122 => link::ip_over_fc, "IP over Fibre Channel (RFC 2625)";
        138 => link::ieee1394, "Apple IP over IEEE 1394";
        143 => link::docsis, "DOCSIS packet PDUs (header checksum verified)";
        178 => link::juniper_ether, "Juniper Ethernet";
        197 => link::erf, "Endace ERF (Ethernet and IP records)";
        109 => link::enc, "OpenBSD enc (IPsec before encryption)";
        117 => link::pflog, "OpenBSD pflog";
        226 => link::ipnet, "Solaris ipnet";
        239 => link::nflog, "Linux NFLOG";
        240 => link::netanalyzer, "Hilscher netANALYZER";
        242 => link::ipoib, "IP over InfiniBand (RFC 4391, after a 40-byte address header)";
        105 => wifi::ieee80211, "IEEE 802.11 (data frames; encrypted ones counted)";
        127 => wifi::radiotap, "802.11 with a radiotap header";
        192 => wifi::ppi, "PPI (802.11 and others)";
        119 => wifi::prism, "802.11 with a Prism (or AVS) header";
        163 => wifi::avs, "802.11 with an AVS header";
    }

    /// An EtherType (Ethernet, SLL, GRE, GENEVE and SNAP name what follows with one).
    fn ether_type(u16) is "EtherType" {
        0x0800 => tunnel::ip, "IPv4";
        0x86dd => tunnel::ip, "IPv6";
        0x8100 | 0x88a8 | 0x9100 => tunnel::vlan, "802.1Q VLAN and QinQ tags";
        0x8847 | 0x8848 => tunnel::mpls, "MPLS";
        0x8864 => link::pppoe, "PPPoE session";
        0x6558 => tunnel::ethernet, "transparent Ethernet bridging";
        0x8903 => tunnel::fabricpath, "Cisco FabricPath";
        0x88e7 => tunnel::pbb, "802.1ah provider backbone bridging (I-TAG)";
        0x893f => tunnel::etag, "802.1BR E-Tag";
        0x8926 => tunnel::vntag, "Cisco VN-Tag";
        0x0000..=0x05dc => link::llc, "802.3 length field: 802.2 LLC/SNAP";
        0x0806 | 0x8035 => tunnel::not_ip, "ARP, RARP (no IP inside)";
        0x88cc | 0x888e | 0x8809 | 0x88f7 | 0x8863 => tunnel::not_ip,
            "LLDP, EAPOL, slow protocols, PTP, PPPoE discovery (no IP inside)";
        0x9000 | 0x0842 | 0x8808 | 0x8902 | 0x8899 => tunnel::not_ip,
            "loopback test, Wake-on-LAN, pause, CFM, Realtek (no IP inside)";
    }

    /// A PPP protocol number (PPP, PPPoE, L2TP, GRE's PPP).
    fn ppp_protocol(u16) is "PPP protocol" {
        0x0021 => tunnel::ip, "IPv4";
        0x0057 => tunnel::ip, "IPv6";
        0x0281 | 0x0283 => tunnel::mpls, "MPLS";
        0xc021 | 0xc023 | 0xc223 | 0x8021 | 0x8057 | 0x80fd | 0x8281 => tunnel::not_ip,
            "LCP, PAP, CHAP, IPCP, IPv6CP, CCP, MPLSCP (no IP inside)";
    }

    /// A GRE protocol type that is not an EtherType of its own (others go to `ether_type`);
    /// these read the whole GRE packet, as their framing depends on GRE's flags.
    fn gre_protocol(u16) is "GRE protocol" {
        0x880b => tunnel::gre_ppp, "PPP (PPTP's enhanced GRE)";
        0x88be => tunnel::erspan2, "ERSPAN type I and II";
        0x22eb => tunnel::erspan3, "ERSPAN type III";
        0x883e => tunnel::wccp, "WCCP redirection";
        0x8200..=0x8370 => tunnel::aruba, "Aruba 802.11 (0x8200, 0x8210, … 0x8370)";
        0x0000 => tunnel::not_ip, "keepalive (no IP inside)";
    }

    /// A UDP port (either end; the lower is tried first, as Wireshark tries it).
    fn udp_port(u16) is "UDP port" {
        4789 => tunnel::vxlan, "VXLAN";
        4790 => tunnel::vxlan_gpe, "VXLAN-GPE";
        6081 => tunnel::geneve, "GENEVE";
        4754 => tunnel::gre, "GRE in UDP (RFC 8086)";
        2152 => tunnel::gtp_u, "GTP-U";
        1701 => tunnel::l2tp, "L2TPv2 carrying PPP";
        5247 => wifi::capwap_data, "CAPWAP data (802.3 or 802.11 frames; fragments reassembled)";
        5072 => tunnel::ayiya, "AYIYA";
        3544 => tunnel::teredo, "Teredo";
        4341 => tunnel::lisp_data, "LISP data";
        37008 => tunnel::tzsp, "TZSP (Ethernet or 802.11)";
    }

    /// An IP protocol number (after IPv4's header or IPv6's extension headers).
    fn ip_protocol(u8) is "IP protocol" {
        4 | 41 => tunnel::ip, "IPv4 or IPv6 in IP";
        47 => tunnel::gre, "GRE (RFC 2784, 2890; PPTP's version 1)";
        108 => tunnel::ipcomp, "IPComp (RFC 3173), DEFLATE payloads inflated";
        97 => tunnel::etherip, "EtherIP";
        137 => tunnel::mpls, "MPLS in IP";
        143 => tunnel::ethernet, "Ethernet (RFC 8986)";
    }
}

/// The table as `docs/reference.md` shows it: one row per entry, numbers as written here.
pub fn markdown() -> String {
    let mut out = String::from("| Reached by | Number | Decoded as |\n|---|---|---|\n");
    for row in TABLE {
        let keys = row.keys.replace(" | ", ", ").replace("..=", "–");
        out.push_str(&format!("| {} | {} | {} |\n", row.kind, keys, row.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/reference.md` shows the table as `markdown` writes it (`SYNFIN_BLESS=1 cargo
    /// test` rewrites it there).
    #[test]
    fn the_documented_table_is_this_table() {
        const START: &str = "<!-- encapsulations: written by src/decode/encap.rs -->\n";
        const END: &str = "<!-- end of encapsulations -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md");
        let doc = std::fs::read_to_string(path).expect("docs/reference.md");
        let start = doc.find(START).expect("the start marker") + START.len();
        let end = doc.find(END).expect("the end marker");
        let table = markdown();
        if std::env::var_os("SYNFIN_BLESS").is_some() {
            let written = format!("{}{table}{}", &doc[..start], &doc[end..]);
            std::fs::write(path, written).expect("docs/reference.md written");
            return;
        }
        assert_eq!(
            doc[start..end],
            table,
            "docs/reference.md's table differs: SYNFIN_BLESS=1 cargo test rewrites it"
        );
    }

    #[test]
    fn no_number_of_a_kind_is_listed_twice() {
        // A `match` takes the first arm: a repeated number would be a dead row.
        let mut seen = std::collections::HashSet::new();
        for row in TABLE {
            for key in row.keys.split(" | ") {
                assert!(seen.insert((row.kind, key)), "{} {key} twice", row.kind);
            }
        }
    }
}
