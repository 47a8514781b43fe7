#!/usr/bin/env python3
"""Websocket check for the Moonraker test stack (Python standard library only).

    ws_probe.py URL OUT.json [SECONDS]

Connects to ws://127.0.0.1:<port>/websocket (URL is MOONRAKER_URL), sends
server.connection.identify (with MOONRAKER_API_KEY if set), then
printer.objects.subscribe for print_stats, extruder, heater_bed, webhooks and
virtual_sdcard, and records every message for SECONDS (default 6). Exit status
0 if at least one notify_status_update arrived. All messages go to OUT.json.
"""
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse


class WebSocket:
    """A minimal RFC 6455 client: text frames, client-side masking, ping/pong."""

    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("connection closed during handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise OSError("handshake failed: %r" % status)

    def send(self, obj):
        self._send_frame(0x1, json.dumps(obj).encode())

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv(self):
        """Next text message as parsed JSON (handles fragments and pings)."""
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise OSError("server closed the websocket")
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return json.loads(message)

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    url = urllib.parse.urlparse(argv[1])
    out_path = argv[2]
    duration = float(argv[3]) if len(argv) > 3 else 6.0
    ws = WebSocket(url.hostname, url.port, "/websocket")
    ident = {"client_name": "polyprint-ws-probe", "version": "0.1",
             "type": "other", "url": "https://example.invalid/polyprint"}
    if os.environ.get("MOONRAKER_API_KEY"):
        ident["api_key"] = os.environ["MOONRAKER_API_KEY"]
    ws.send({"jsonrpc": "2.0", "method": "server.connection.identify",
             "params": ident, "id": 1})
    ws.send({"jsonrpc": "2.0", "method": "printer.objects.subscribe", "id": 2,
             "params": {"objects": {"print_stats": None, "extruder": None,
                                    "heater_bed": None, "webhooks": None,
                                    "virtual_sdcard": ["progress", "is_active"]}}})
    messages = []
    t0 = time.monotonic()
    ws.sock.settimeout(0.5)
    while time.monotonic() - t0 < duration:
        try:
            msg = ws.recv()
        except socket.timeout:
            continue
        msg["_t"] = round(time.monotonic() - t0, 3)
        messages.append(msg)
    ws.close()
    with open(out_path, "w") as f:
        json.dump(messages, f, indent=1)
    updates = [m for m in messages if m.get("method") == "notify_status_update"]
    sub = next((m for m in messages if m.get("id") == 2), None)
    ident_ok = any(m.get("id") == 1 and "result" in m for m in messages)
    print("ws: identify %s, subscribe %s, %d messages, %d notify_status_update"
          % ("ok" if ident_ok else "FAILED",
             "ok" if sub and "result" in sub else "FAILED",
             len(messages), len(updates)))
    for m in updates[:3]:
        print("ws:   update at %.2f s: %s" % (m["_t"], json.dumps(m["params"][0])[:200]))
    return 0 if updates and ident_ok and sub and "result" in sub else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
