//! Network addresses and points as SQLite holds them (text, integers, blobs), read into what
//! PostgreSQL's `inet`, `cidr`, `macaddr` and `point` hold, refusing what they would refuse.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An `inet`/`cidr` value: the address bytes (4 or 16) and the netmask length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    pub bytes: [u8; 16],
    pub v6: bool,
    pub bits: u8,
}

impl IpNet {
    /// The address bytes: 4 for IPv4, 16 for IPv6.
    pub fn address(&self) -> &[u8] {
        if self.v6 {
            &self.bytes
        } else {
            &self.bytes[..4]
        }
    }

    fn max_bits(v6: bool) -> u8 {
        if v6 {
            128
        } else {
            32
        }
    }

    fn of_v4(a: Ipv4Addr, bits: u8) -> IpNet {
        let mut bytes = [0; 16];
        bytes[..4].copy_from_slice(&a.octets());
        IpNet {
            bytes,
            v6: false,
            bits,
        }
    }

    fn of_v6(a: Ipv6Addr, bits: u8) -> IpNet {
        IpNet {
            bytes: a.octets(),
            v6: true,
            bits,
        }
    }

    /// A single address from 4 or 16 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<IpNet> {
        match b.len() {
            4 => Some(IpNet::of_v4(Ipv4Addr::new(b[0], b[1], b[2], b[3]), 32)),
            16 => <[u8; 16]>::try_from(b)
                .ok()
                .map(|o| IpNet::of_v6(Ipv6Addr::from(o), 128)),
            _ => None,
        }
    }

    /// An IPv4 address held as an unsigned 32-bit integer.
    pub fn from_integer(i: i64) -> Option<IpNet> {
        u32::try_from(i)
            .ok()
            .map(|n| IpNet::of_v4(Ipv4Addr::from(n), 32))
    }

    /// `a.b.c.d` or an IPv6 address, with an optional `/bits`; with `/bits`, an IPv4 address
    /// may leave out trailing zero octets (`10/8`), as PostgreSQL allows.
    pub fn parse(text: &str) -> Option<IpNet> {
        let text = text.trim();
        let (address, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let bits = match bits {
            Some(b) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) && b.len() <= 3 => {
                Some(b.parse::<u8>().ok()?)
            }
            Some(_) => return None,
            None => None,
        };
        if address.contains(':') {
            let a: Ipv6Addr = address.parse().ok()?;
            let bits = bits.unwrap_or(128);
            return (bits <= 128).then(|| IpNet::of_v6(a, bits));
        }
        let a = match address.parse::<Ipv4Addr>() {
            Ok(a) => a,
            Err(_) if bits.is_some() => abbreviated_v4(address)?,
            Err(_) => return None,
        };
        let bits = bits.unwrap_or(32);
        (bits <= 32).then(|| IpNet::of_v4(a, bits))
    }

    /// Whether any address bit right of the netmask is set, which `cidr` refuses.
    pub fn has_host_bits(&self) -> bool {
        let address = self.address();
        let bits = usize::from(self.bits);
        address.iter().enumerate().any(|(i, &byte)| {
            let first = i * 8;
            if first + 8 <= bits {
                false
            } else if first >= bits {
                byte != 0
            } else {
                byte & (0xffu8 >> (bits - first)) != 0
            }
        })
    }

    /// As PostgreSQL prints it: the `/bits` left out for a whole-address `inet`.
    pub fn text(&self, cidr: bool) -> String {
        let address = if self.v6 {
            Ipv6Addr::from(self.bytes).to_string()
        } else {
            Ipv4Addr::new(self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]).to_string()
        };
        if cidr || self.bits != IpNet::max_bits(self.v6) {
            format!("{address}/{}", self.bits)
        } else {
            address
        }
    }
}

/// One to three decimal octets, the rest zero: `10`, `172.16`, `192.168.1`.
fn abbreviated_v4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    for (slot, part) in octets.iter_mut().zip(&parts) {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

/// A MAC address: 12 hex digits, in groups separated by one of `:`, `-` or `.`, or not at all.
pub(crate) fn parse_macaddr(text: &str) -> Option<[u8; 6]> {
    let text = text.trim();
    let mut separators = text.chars().filter(|c| matches!(c, ':' | '-' | '.'));
    if let Some(first) = separators.next() {
        if separators.any(|c| c != first) {
            return None;
        }
    }
    let groups: Vec<&str> = text.split([':', '-', '.']).collect();
    if groups.iter().any(|g| g.is_empty()) {
        return None;
    }
    let hex = groups.concat();
    if hex.len() != 12 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A point: `(x, y)` or `x, y`.
pub(crate) fn parse_point(text: &str) -> Option<(f64, f64)> {
    let text = text.trim();
    let inner = match text.strip_prefix('(') {
        Some(rest) => rest.strip_suffix(')')?,
        None => text,
    };
    let (x, y) = inner.split_once(',')?;
    let number = |s: &str| -> Option<f64> {
        let s = s.trim();
        // Rust also reads `inf` and `NaN`, as PostgreSQL does; nothing else non-numeric.
        if s.is_empty() || s.contains(|c: char| c.is_whitespace()) {
            return None;
        }
        s.parse::<f64>().ok()
    };
    Some((number(x)?, number(y)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<String> {
        IpNet::parse(text).map(|n| n.text(false))
    }

    #[test]
    fn addresses_read_as_postgres_reads_them() {
        assert_eq!(ip("10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(ip("10.0.0.1/8").as_deref(), Some("10.0.0.1/8"));
        assert_eq!(ip(" 192.168.1.5/32 ").as_deref(), Some("192.168.1.5"));
        assert_eq!(ip("10/8").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(ip("172.16/12").as_deref(), Some("172.16.0.0/12"));
        assert_eq!(ip("::1").as_deref(), Some("::1"));
        assert_eq!(ip("fe80::1/64").as_deref(), Some("fe80::1/64"));
        assert_eq!(ip("::ffff:1.2.3.4").as_deref(), Some("::ffff:1.2.3.4"));
        for bad in [
            "10",
            "10.0.0.1/33",
            "::1/129",
            "10.0.0.256",
            "1.2.3.4/",
            "/8",
            "host",
            "1.2.3.4/-1",
            "10.0.0.1/8/8",
        ] {
            assert_eq!(ip(bad), None, "{bad}");
        }
        assert_eq!(
            IpNet::from_integer(167_772_161).map(|n| n.text(false)),
            Some("10.0.0.1".into())
        );
        assert_eq!(IpNet::from_integer(-1), None);
        assert_eq!(IpNet::from_integer(1 << 32), None);
        assert_eq!(
            IpNet::from_bytes(&[127, 0, 0, 1]).map(|n| n.text(true)),
            Some("127.0.0.1/32".into())
        );
    }

    #[test]
    fn cidr_refuses_bits_right_of_the_mask() {
        let host = |t: &str| IpNet::parse(t).unwrap().has_host_bits();
        assert!(!host("10.0.0.0/8"));
        assert!(host("10.0.0.1/8"));
        assert!(host("10.128.0.0/8"));
        assert!(!host("10.128.0.0/9"));
        assert!(!host("0.0.0.0/0"));
        assert!(!host("2001:db8::/32"));
        assert!(host("2001:db8::1/64"));
        assert!(!host("1.2.3.4"));
    }

    #[test]
    fn mac_addresses_and_points_parse() {
        let mac = [0x08, 0x00, 0x2b, 0x01, 0x02, 0x03];
        for good in [
            "08:00:2b:01:02:03",
            "08-00-2b-01-02-03",
            "08002b:010203",
            "0800.2b01.0203",
            "08002B010203",
        ] {
            assert_eq!(parse_macaddr(good), Some(mac), "{good}");
        }
        for bad in [
            "08:00:2b:01:02",
            "08:00:2b:01:02:03:04",
            "08:00-2b:01:02:03",
            ":08002b010203",
            "08002b010203:",
            "08::002b010203",
            "0g:00:2b:01:02:03",
        ] {
            assert_eq!(parse_macaddr(bad), None, "{bad}");
        }
        assert_eq!(parse_point("(1.5, -2)"), Some((1.5, -2.0)));
        assert_eq!(parse_point("1,2"), Some((1.0, 2.0)));
        assert_eq!(parse_point("(1,2"), None);
        assert_eq!(parse_point("1 2"), None);
        assert_eq!(parse_point("(a,2)"), None);
    }
}
