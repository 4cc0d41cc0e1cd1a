//! Who is on the other end: the peer's address, or behind a trusted reverse proxy the address
//! that proxy saw (`X-Forwarded-For`). Login throttling and request logs use it.

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The request's client address, set on every request served with `ConnectInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The client of a request from `peer`. A peer that is not a trusted proxy is the client, whatever
/// its headers say. A trusted one appended the address it saw to `X-Forwarded-For`, after what
/// earlier proxies wrote: reading from the right, the first address that is not a trusted proxy
/// is the client (entries further left are the client's own word). An entry that is not an
/// address stops the walk at the last address read.
pub fn resolve<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a HeaderValue>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |addr: &IpAddr| trusted.iter().any(|net| net.contains(addr));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for value in forwarded_for.rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for entry in value.rsplit(',') {
            let Some(addr) = parse(entry.trim()) else {
                return client;
            };
            client = addr;
            if !is_trusted(&addr) {
                return client;
            }
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, and the same with a port (`[2001:db8::1]:443`).
fn parse(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Records the request's [`ClientAddress`] for the handlers and the request log (called by
/// `observability::observe`); a request served without `ConnectInfo` gets none.
pub fn attach(request: &mut Request, trusted: &[IpNet]) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = resolve(
            peer,
            request.headers().get_all("x-forwarded-for").iter(),
            trusted,
        );
        request.extensions_mut().insert(ClientAddress(client));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, headers: &[&str], trusted: &[&str]) -> String {
        let values: Vec<HeaderValue> = headers
            .iter()
            .map(|h| HeaderValue::from_str(h).unwrap())
            .collect();
        let trusted: Vec<IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        resolve(peer.parse().unwrap(), values.iter(), &trusted).to_string()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(
            client("198.51.100.1", &["203.0.113.7"], &[]),
            "198.51.100.1"
        );
        assert_eq!(
            client("198.51.100.1", &["203.0.113.7"], &["10.0.0.0/8"]),
            "198.51.100.1"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_address_from_the_right_is_the_client() {
        let proxies = ["10.0.0.0/8", "127.0.0.1/32"];
        assert_eq!(
            client("127.0.0.1", &["203.0.113.7"], &proxies),
            "203.0.113.7"
        );
        // A client forging an address on the left changes nothing.
        assert_eq!(
            client("127.0.0.1", &["1.2.3.4, 203.0.113.7, 10.0.0.5"], &proxies),
            "203.0.113.7"
        );
        // Several header lines read as one list, in order.
        assert_eq!(
            client(
                "127.0.0.1",
                &["1.2.3.4", "203.0.113.7", "10.0.0.5"],
                &proxies
            ),
            "203.0.113.7"
        );
        assert_eq!(
            client("127.0.0.1", &["[2001:db8::7]:443"], &proxies),
            "2001:db8::7"
        );
    }

    #[test]
    fn garbage_or_nothing_leaves_the_last_address_read() {
        let proxies = ["10.0.0.0/8", "127.0.0.1/32"];
        assert_eq!(client("127.0.0.1", &[], &proxies), "127.0.0.1");
        assert_eq!(client("127.0.0.1", &["unknown"], &proxies), "127.0.0.1");
        assert_eq!(
            client("127.0.0.1", &["203.0.113.7, not-an-ip, 10.0.0.5"], &proxies),
            "10.0.0.5"
        );
        // Only trusted proxies all the way: the leftmost of them.
        assert_eq!(
            client("127.0.0.1", &["10.0.0.9, 10.0.0.5"], &proxies),
            "10.0.0.9"
        );
    }
}
