//! Syslog: UDP (RFC 5426, one message a datagram), TCP (RFC 6587 octet counting:
//! `<length> <message>`) and TLS (RFC 5425, the same framing inside TLS).

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use palisade_core::Alert;
use rustls_pki_types::ServerName;

use super::{DeliveryError, Transport, client_tls};
use crate::config::{SyslogConfig, SyslogTransportKind};
use crate::format::syslog::{Facility, SyslogFormat};

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

pub struct SyslogTransport {
    address: String,
    kind: SyslogTransportKind,
    format: SyslogFormat,
    facility: Facility,
    timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
    connection: Option<Connection>,
}

enum Connection {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl SyslogTransport {
    pub fn new(config: &SyslogConfig) -> Result<SyslogTransport, String> {
        let tls = match config.transport {
            SyslogTransportKind::Tls => Some(client_tls(config.ca.as_deref())?),
            _ => None,
        };
        Ok(SyslogTransport {
            address: config.address.clone(),
            kind: config.transport,
            format: config.format,
            facility: config.facility,
            timeout: config.timeout,
            tls,
            connection: None,
        })
    }

    fn connect(&self) -> io::Result<Connection> {
        let targets: Vec<SocketAddr> = self.address.to_socket_addrs()?.collect();
        let first = targets
            .first()
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
        match self.kind {
            SyslogTransportKind::Udp => {
                let local = if first.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(local)?;
                socket.connect(first)?;
                Ok(Connection::Udp(socket))
            }
            SyslogTransportKind::Tcp => Ok(Connection::Tcp(self.connect_tcp(&targets)?)),
            SyslogTransportKind::Tls => {
                let config = self
                    .tls
                    .clone()
                    .ok_or_else(|| io::Error::other("TLS not configured"))?;
                let name = ServerName::try_from(host_of(&self.address).to_string())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                let stream = self.connect_tcp(&targets)?;
                stream.set_read_timeout(Some(self.timeout))?;
                let client =
                    rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
                let mut tls = rustls::StreamOwned::new(client, stream);
                // Handshake now, so a certificate problem shows as a connection error.
                while tls.conn.is_handshaking() {
                    tls.conn.complete_io(&mut tls.sock)?;
                }
                Ok(Connection::Tls(Box::new(tls)))
            }
        }
    }

    /// The first address that accepts (`localhost` may resolve to ::1 before 127.0.0.1).
    fn connect_tcp(&self, targets: &[SocketAddr]) -> io::Result<TcpStream> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for target in targets {
            match TcpStream::connect_timeout(target, self.timeout) {
                Ok(stream) => {
                    stream.set_write_timeout(Some(self.timeout))?;
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// The bytes one alert puts on the wire.
    pub fn frame(&self, alert: &Alert) -> Vec<u8> {
        let message = self.format.render(alert, self.facility);
        match self.kind {
            SyslogTransportKind::Udp => message.into_bytes(),
            SyslogTransportKind::Tcp | SyslogTransportKind::Tls => {
                format!("{} {message}", message.len()).into_bytes()
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(Connection::Tcp(stream)) = &self.connection
            && peer_closed(stream)
        {
            self.connection = None;
        }
        if let Some(Connection::Tls(stream)) = &self.connection
            && peer_closed(&stream.sock)
        {
            self.connection = None;
        }
        if self.connection.is_none() {
            self.connection = Some(self.connect()?);
        }
        let result = match &mut self.connection {
            Some(Connection::Udp(socket)) => socket.send(bytes).map(|_| ()),
            Some(Connection::Tcp(stream)) => stream.write_all(bytes).and_then(|()| stream.flush()),
            Some(Connection::Tls(stream)) => stream.write_all(bytes).and_then(|()| stream.flush()),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        };
        if result.is_err() {
            self.connection = None;
        }
        result
    }
}

/// A collector that went away is seen by reading, not writing (the first write after a close
/// still succeeds): a non-blocking peek that reads end-of-stream means reconnect before sending.
fn peer_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    closed || stream.set_nonblocking(false).is_err()
}

/// The host part of `host:port` / `[v6]:port`, for TLS server name checks.
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

impl Transport for SyslogTransport {
    fn deliver(&mut self, alerts: &[Alert]) -> Result<(), DeliveryError> {
        for alert in alerts {
            let bytes = self.frame(alert);
            if self.kind == SyslogTransportKind::Udp && bytes.len() > MAX_DATAGRAM {
                return Err(DeliveryError::Rejected {
                    reason: format!(
                        "syslog udp {}: a {}-byte message does not fit in a datagram (use tcp)",
                        self.address,
                        bytes.len()
                    ),
                });
            }
            if let Err(error) = self.send(&bytes) {
                return Err(DeliveryError::Retry {
                    reason: format!("syslog {} {}: {error}", self.kind.name(), self.address),
                    after: None,
                });
            }
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_addresses() {
        assert_eq!(host_of("siem.example.com:6514"), "siem.example.com");
        assert_eq!(host_of("[::1]:6514"), "::1");
        assert_eq!(host_of("10.0.0.1:514"), "10.0.0.1");
    }
}
