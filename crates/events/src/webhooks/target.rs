//! Where a webhook may point. Deliveries leave the platform's own network,
//! so a partner naming `http://169.254.169.254/…` or `https://10.0.0.5/…`
//! must not reach what only the platform can reach: targets must be public
//! addresses, checked on the URL's literal address when the endpoint is
//! saved and on every resolved address when a delivery connects (the
//! connection goes only to an address that passed, so a name that later
//! resolves elsewhere gains nothing). `PARTNER_WEBHOOK_ALLOW_PRIVATE=1` lifts
//! the rule, and allows plain http, for development and tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 512;

/// Whether private targets are allowed (development and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    /// The normalised form of an endpoint URL, or why it cannot be one.
    pub fn check_url(self, raw: &str) -> Result<Url, String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("at most {MAX_URL_LEN} characters"));
        }
        let url = Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            _ => return Err("must be https".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry user info".into());
        }
        if url.fragment().is_some() {
            return Err("must not carry a fragment".into());
        }
        self.check_host(&url)?;
        // Normalising percent-encodes and punycodes: the stored form counts.
        if url.as_str().len() > MAX_URL_LEN {
            return Err(format!("at most {MAX_URL_LEN} characters once normalised"));
        }
        Ok(url)
    }

    /// Refuses a literal address or a local name that is not public.
    pub fn check_host(self, url: &Url) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        match url.host() {
            None => Err("must name a host".into()),
            Some(Host::Ipv4(ip)) => public_or_refused(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => public_or_refused(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") || !name.contains('.') {
                    Err(format!("`{name}` is not a public host name"))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Whether a delivery may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

fn public_or_refused(ip: IpAddr) -> Result<(), String> {
    if is_public(ip) {
        Ok(())
    } else {
        Err(format!(
            "{ip} is a loopback, private, link-local or reserved address"
        ))
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // Global unicast is 2000::/3; inside it, documentation (2001:db8::/32),
    // Teredo (2001::/32) and 6to4 (2002::/16) tunnel to addresses not
    // checked here.
    (s[0] & 0xe000) == 0x2000
        && !(s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0))
        && s[0] != 0x2002
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_private: false,
    };

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "2002:a00:1::1",
            "ff02::1",
        ] {
            let ip: IpAddr = ip.parse().expect(ip);
            assert!(!is_public(ip), "{ip} passed");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            let ip: IpAddr = ip.parse().expect(ip);
            assert!(is_public(ip), "{ip} refused");
        }
    }

    #[test]
    fn urls_must_be_https_to_public_hosts() {
        assert!(
            STRICT
                .check_url("https://hooks.example.com/partner")
                .is_ok()
        );
        for bad in [
            "http://hooks.example.com/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://localhost/",
            "https://intranet/",
            "https://api.localhost/",
            "https://169.254.169.254/latest",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#x",
            "ftp://hooks.example.com/",
            "not a url",
        ] {
            assert!(STRICT.check_url(bad).is_err(), "{bad} passed");
        }
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(
            open.check_url(&format!("https://a.example/{}", "x".repeat(512)))
                .is_err()
        );
    }
}
