"""A real TLS server on 127.0.0.1 with certificates made on the spot, for the TLS guarantees.

`Pki` makes a test CA and leaf certificates (CA-signed, expired, self-signed) with the `cryptography`
package; `TlsServer` serves HTTPS with one of them through the standard `ssl` module and records the
SNI name and Host header of every request, so a test can see what a probe presented.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVICE = "service.example.test"


@dataclass(frozen=True)
class Leaf:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


class Pki:
    """A throwaway certificate authority in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self._ca = (
            x509.CertificateBuilder()
            .subject_name(_name("greenlight test CA"))
            .issuer_name(_name("greenlight test CA"))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_bundle = directory / "ca.pem"
        self.ca_bundle.write_bytes(self._ca.public_bytes(serialization.Encoding.PEM))

    def leaf(
        self, name: str, *, hosts: tuple[str, ...] = (SERVICE,), expired: bool = False, self_signed: bool = False
    ) -> Leaf:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        before, after = (
            (now - dt.timedelta(days=30), now - dt.timedelta(days=1))
            if expired
            else (
                now - dt.timedelta(days=1),
                now + dt.timedelta(days=30),
            )
        )
        issuer_key = key if self_signed else self._key
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0]))
            .issuer_name(_name(hosts[0]) if self_signed else self._ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(before)
            .not_valid_after(after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        cert = builder.sign(issuer_key, hashes.SHA256())
        cert_path = self.directory / f"{name}.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return Leaf(cert_path, _write_key(key, self.directory / f"{name}.key"))


@dataclass
class Seen:
    sni: list[str | None] = field(default_factory=list)
    hosts: list[str | None] = field(default_factory=list)
    handshake_errors: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self.server.seen.hosts.append(self.headers.get("Host"))
        if self.path == "/drip":
            # A hostile peer: after the handshake, one byte of a header every 0.2 s for up to 10 s, so no single
            # read ever times out while the answer never completes.
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            with contextlib.suppress(OSError):
                for _ in range(50):
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(0.2)
            return
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: Seen
    context: ssl.SSLContext

    def server_bind(self) -> None:
        import socketserver

        socketserver.TCPServer.server_bind(self)  # no reverse DNS look-up of the address
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        sock.settimeout(10)
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            self.seen.handshake_errors += 1  # the client refused our certificate: what several tests expect
            return
        super().finish_request(request, client_address)


class TlsServer:
    """HTTPS on 127.0.0.1 with `leaf`; records SNI names and Host headers in `seen`."""

    def __init__(self, leaf: Leaf) -> None:
        self.seen = Seen()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(leaf.cert, leaf.key)

        def remember_sni(_sock: Any, server_name: str | None, _ctx: Any) -> None:
            self.seen.sni.append(server_name)

        context.sni_callback = remember_sni
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.seen = self.seen
        self._server.context = context
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> TlsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown()
            self._server.server_close()
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"
