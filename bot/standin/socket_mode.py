"""A local Socket Mode endpoint: the WebSocket server Slack runs for Socket Mode apps,
reduced to what an app sees. It accepts connections, says `hello`, sends envelopes
(slash commands, events, interactivity) and records each ack with the time it took.

Plain sockets and the RFC 6455 framing (no dependency); loopback only. Used by
bench/socket_ack.py to time acks over the same transport Slack uses in Socket Mode.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: final, unmasked."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
    first, second = _read_exactly(conn, 2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _read_exactly(conn, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _read_exactly(conn, 8))[0]
    mask = _read_exactly(conn, 4) if second & 0x80 else b"\0\0\0\0"
    data = _read_exactly(conn, size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@dataclass
class Connection:
    sock: socket.socket
    acks: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    sent: dict[str, float] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send_text(self, text: str) -> None:
        with self.send_lock:
            self.sock.sendall(_frame(TEXT, text.encode()))

    def request(self, kind: str, payload: dict[str, Any],
                timeout: float = 10) -> tuple[float, dict[str, Any]]:
        """Send one envelope; wait for its ack. Returns (milliseconds, ack payload)."""
        envelope_id = str(uuid.uuid4())
        envelope = json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                               "accepts_response_payload": kind != "events_api",
                               "retry_attempt": 0, "retry_reason": ""})
        with self.changed:
            self.sent[envelope_id] = time.perf_counter()
        self.send_text(envelope)
        with self.changed:
            if not self.changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"no ack for {kind} within {timeout} s")
            acked_at, body = self.acks.pop(envelope_id)
            return (acked_at - self.sent.pop(envelope_id)) * 1000, body


class SocketModeServer:
    """`url` is what `apps.connections.open` would answer; `connections` fill as apps
    connect (`wait_for_connections`)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"
        self.connections: list[Connection] = []
        self._changed = threading.Condition()
        self._closed = False

    def start(self) -> SocketModeServer:
        threading.Thread(target=self._accept, name="socket-mode-standin", daemon=True).start()
        return self

    def wait_for_connections(self, count: int, timeout: float = 10) -> list[Connection]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= count, timeout):
                raise TimeoutError(f"{len(self.connections)} of {count} apps connected")
            return list(self.connections)

    def stop(self) -> None:
        self._closed = True
        self._listener.close()
        for connection in self.connections:
            try:
                with connection.send_lock:
                    connection.sock.sendall(_frame(CLOSE, struct.pack("!H", 1000)))
            except OSError:
                pass
            connection.sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = sock.recv(4096)
            if not chunk:
                sock.close()
                return
            request += chunk
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in request.decode().split("\r\n")[1:] if line)}
        accept = base64.b64encode(hashlib.sha1(
            (headers["sec-websocket-key"] + _GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        connection = Connection(sock)
        connection.send_text(json.dumps({"type": "hello", "num_connections": 1,
                                         "connection_info": {"app_id": "A00000001"},
                                         "debug_info": {"host": "standin"}}))
        with self._changed:
            self.connections.append(connection)
            self._changed.notify_all()
        try:
            while True:
                opcode, data = _read_frame(sock)
                if opcode == TEXT:
                    acked_at = time.perf_counter()
                    message = json.loads(data)
                    with connection.changed:
                        connection.acks[message.get("envelope_id", "")] = (
                            acked_at, message.get("payload") or {})
                        connection.changed.notify_all()
                elif opcode == PING:
                    with connection.send_lock:
                        sock.sendall(_frame(PONG, data))
                elif opcode == CLOSE:
                    return
        except (ConnectionError, OSError):
            return
