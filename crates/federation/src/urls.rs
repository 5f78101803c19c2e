//! URLs a browser is sent to (IdP SSO URLs, service URLs): https, or http
//! only on loopback (development), with a host and no credentials.

use url::Url;

fn loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `raw` parsed and normalised, if a browser may be sent there.
pub fn browser_url(raw: &str) -> Result<Url, &'static str> {
    let url = Url::parse(raw).map_err(|_| "not an absolute URL")?;
    match url.scheme() {
        "https" => {}
        "http" if loopback(&url) => {}
        _ => return Err("must be https (http only on localhost)"),
    }
    if url.host().is_none() {
        return Err("must name a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    Ok(url)
}
