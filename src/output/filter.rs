//! Which records a user asked to see (`--conn`, `--port`, `--host`, `--role`), for every
//! format. Connections are kept or dropped whole; `--role` picks segments only.

use std::net::{IpAddr, SocketAddr};

use crate::annotate::{Record, Role, SegmentRecord, Step};

/// A role to show: one of SPEC.md's roles, or every step of the handshake or the teardown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolePick {
    Role(Role),
    Handshake,
    Teardown,
}

impl RolePick {
    /// Every name `--role` takes: the roles' JSON names, then the two exchanges.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Role::ALL
            .into_iter()
            .map(Role::name)
            .chain(["handshake", "teardown"])
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "handshake" => Some(RolePick::Handshake),
            "teardown" => Some(RolePick::Teardown),
            _ => Role::ALL
                .into_iter()
                .find(|r| r.name() == name)
                .map(RolePick::Role),
        }
    }

    fn picks(self, s: &SegmentRecord) -> bool {
        match self {
            RolePick::Role(role) => s.role == role,
            RolePick::Handshake => matches!(s.step, Some(Step::Handshake(_))),
            RolePick::Teardown => matches!(s.step, Some(Step::Teardown { .. })),
        }
    }
}

/// Every list empty: everything is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub conns: Vec<u64>,
    pub ports: Vec<u16>,
    pub hosts: Vec<IpAddr>,
    pub roles: Vec<RolePick>,
}

impl Filter {
    pub fn keeps(&self, record: &Record) -> bool {
        match record {
            Record::Segment(s) => {
                self.keeps_conn(s.conn, s.src.0.socket(), s.dst.0.socket())
                    && (self.roles.is_empty() || self.roles.iter().any(|r| r.picks(s)))
            }
            Record::Connection(c) => {
                self.keeps_conn(c.conn, c.client.0.socket(), c.server.0.socket())
            }
        }
    }

    fn keeps_conn(&self, conn: u64, a: SocketAddr, b: SocketAddr) -> bool {
        (self.conns.is_empty() || self.conns.contains(&conn))
            && (self.ports.is_empty() || self.ports.iter().any(|&p| p == a.port() || p == b.port()))
            && (self.hosts.is_empty() || self.hosts.iter().any(|&h| h == a.ip() || h == b.ip()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_name_parses_back() {
        let names: Vec<&str> = RolePick::names().collect();
        assert_eq!(names.len(), Role::ALL.len() + 2);
        for name in names {
            let pick = RolePick::parse(name).expect("a role");
            if let RolePick::Role(role) = pick {
                assert_eq!(role.name(), name);
            }
        }
        assert_eq!(RolePick::parse("synack"), None);
    }
}
