"""A small authoritative DNS responder on loopback, for tests and the demo.

It answers TXT questions for the names it is given (each name may hold several records) and
NXDOMAIN for names it does not know, over UDP and TCP on one port. Records can be changed while
it runs. Nothing here ever asks a public resolver anything.

    with DnsResponder({"_dmarc.example.com": ["v=DMARC1; p=none"]}) as dns:
        lettr domain verify example.com --nameserver {dns.nameserver}
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

TTL = 60
_UDP_PAYLOAD = 512  # without EDNS (RFC 1035); larger answers are truncated and retried on TCP
_TXT_STRING = 255  # one TXT character-string holds at most 255 bytes


class DnsResponder:
    """Serve TXT records on ``host`` (loopback) at ``port`` (0: an ephemeral port)."""

    def __init__(
        self,
        records: Mapping[str, Iterable[str]] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._records: dict[dns.name.Name, list[str]] = {}
        self._lock = threading.Lock()
        for name, values in (records or {}).items():
            self.publish(name, *values)
        self._host, self._port = host, port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self.queries: list[tuple[str, str]] = []  # (name, type) asked, in order

    # -- records -----------------------------------------------------------------------------
    def publish(self, name: str, *values: str) -> None:
        """Add TXT records at ``name`` (joined strings; split into 255-byte pieces on the wire)."""
        with self._lock:
            self._records.setdefault(_absolute(name), []).extend(values)

    def replace(self, name: str, *values: str) -> None:
        """Make ``values`` the only TXT records at ``name`` (none: the name disappears)."""
        with self._lock:
            self._records.pop(_absolute(name), None)
            if values:
                self._records[_absolute(name)] = list(values)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def serve_only(self, records: Mapping[str, Iterable[str]]) -> None:
        """Make ``records`` everything served, in one step: no query sees a mix of both."""
        fresh: dict[dns.name.Name, list[str]] = {}
        for name, values in records.items():
            fresh.setdefault(_absolute(name), []).extend(values)
        with self._lock:
            self._records = fresh

    # -- serving -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._udp is not None, "start the responder first"
        return int(self._udp.getsockname()[1])

    @property
    def nameserver(self) -> str:
        """``HOST:PORT`` for ``lettr domain verify --nameserver``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    def start(self) -> DnsResponder:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        self._udp, self._tcp = _bind_pair(family, self._host, self._port)
        self._thread = threading.Thread(target=self._serve, name="lettr-dns", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()

    def __enter__(self) -> DnsResponder:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._udp, selectors.EVENT_READ)
            selector.register(self._tcp, selectors.EVENT_READ)
            while not self._stop.is_set():
                for ready, _ in selector.select(timeout=0.1):
                    if ready.fileobj is self._udp:
                        self._answer_udp()
                    else:
                        self._answer_tcp()

    def _answer_udp(self) -> None:
        assert self._udp is not None
        try:
            wire, peer = self._udp.recvfrom(65535)
        except OSError:
            return
        reply = self.answer(wire, max_size=_UDP_PAYLOAD)
        if reply is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(reply, peer)

    def _answer_tcp(self) -> None:
        assert self._tcp is not None
        try:
            conn, _ = self._tcp.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(2)
            try:
                while header := _read_exactly(conn, 2):
                    wire = _read_exactly(conn, struct.unpack("!H", header)[0])
                    reply = self.answer(wire, max_size=65535)
                    if reply is None:
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    def answer(self, wire: bytes, *, max_size: int) -> bytes | None:
        """The reply to one query in wire format; None for what is not a query at all."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.edns >= 0:
            max_size = max(max_size, min(query.payload, 65535))
        with self._lock:
            for question in query.question:
                self.queries.append(
                    (question.name.to_text(), dns.rdatatype.to_text(question.rdtype))
                )
                self._add_answer(response, question.name, question.rdtype)
        try:
            return response.to_wire(max_size=max_size)
        except dns.exception.TooBig:
            response.answer.clear()
            response.flags |= dns.flags.TC
            return response.to_wire(max_size=max_size)

    def _add_answer(self, response: dns.message.Message, name: dns.name.Name, rdtype: int) -> None:
        values = self._records.get(name)
        if values is None:
            if not any(known.is_subdomain(name) for known in self._records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            return
        if rdtype not in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            return  # the name exists, without records of that type (NODATA)
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, dns.rdatatype.TXT)
        for value in values:
            data = value.encode("utf-8")
            strings = [data[i : i + _TXT_STRING] for i in range(0, len(data), _TXT_STRING)]
            rrset.add(
                dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings or [b""]),
                TTL,
            )
        response.answer.append(rrset)


def _absolute(name: str) -> dns.name.Name:
    return dns.name.from_text(name.rstrip(".").lower() + ".")


def _bind_pair(family: int, host: str, port: int) -> tuple[socket.socket, socket.socket]:
    # UDP and TCP port numbers are separate spaces: an ephemeral UDP port may be taken on TCP.
    for _ in range(20):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((host, port))
        tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            tcp.bind((host, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        tcp.listen(8)
        return udp, tcp
    raise OSError("no port free for both UDP and TCP")


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            if data:
                raise OSError("the connection closed inside a message")
            return b""
        data += chunk
    return data
