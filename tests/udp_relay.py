"""A UDP relay that delays, jitters and reorders packets: the middle of the impaired network.

This kernel has no ``netem`` and no ``NFQUEUE`` target (``nft ... queue`` answers "No such
file or directory"), so per-packet delay lives here, in user space, as the issue allows: the
livekit-server advertises this relay's address as its own (``rtc.node_ip``) and listens on
one UDP port (``rtc.udp_port``); every client's media goes to the relay, which forwards it
from a socket of its own per client (as a NAT does) and sends the answers back the same
way. Loss, the outage and the rate cap are the kernel's (nftables and ``tc tbf`` in
``impaired_network.py``), on the same packets.

Run inside the middle namespace::

    python udp_relay.py --listen 10.78.2.1:7882 --upstream-ip 10.78.1.2 --server 10.78.1.1:7882

It prints one JSON line when it listens. Each JSON line on stdin sets the impairment
(``{"delay_ms": 50, "jitter_ms": 20, "reorder": true}``; each packet waits
``delay_ms ± jitter_ms``, uniformly; without ``reorder`` a packet never overtakes the one
before it in its direction) and is answered with one JSON line of counts so far.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

Address = tuple[str, int]


@dataclass
class Direction:
    """One direction of one client's flow, and what happened to its packets."""

    sent: int = 0
    reordered: int = 0
    """Packets that left before one that arrived earlier."""
    _last_due: float = 0.0
    _arrived: int = 0
    _highest_sent: int = -1

    def due(self, now: float, settings: Settings) -> tuple[float, int]:
        """When a packet arriving now leaves, and its arrival number."""
        wait = settings.delay_s + random.uniform(-settings.jitter_s, settings.jitter_s)
        due = now + max(0.0, wait)
        if not settings.reorder:
            due = max(due, self._last_due)
        self._last_due = max(self._last_due, due)
        self._arrived += 1
        return due, self._arrived

    def left(self, number: int) -> None:
        self.sent += 1
        if number < self._highest_sent:
            self.reordered += 1
        self._highest_sent = max(self._highest_sent, number)


@dataclass
class Settings:
    delay_s: float = 0.0
    jitter_s: float = 0.0
    reorder: bool = False


@dataclass
class Flow:
    """One client: its upstream socket towards the server, and both directions."""

    upstream: socket.socket
    to_server: Direction = field(default_factory=Direction)
    to_client: Direction = field(default_factory=Direction)


class Relay:
    def __init__(self, listen: Address, upstream_ip: str, server: Address) -> None:
        self.loop = asyncio.get_running_loop()
        self.settings = Settings()
        self.flows: dict[Address, Flow] = {}
        self.upstream_ip = upstream_ip
        self.server = server
        self.listener = _udp(listen)
        self.loop.add_reader(self.listener.fileno(), self._from_client)

    def _from_client(self) -> None:
        for data, client in _drain(self.listener):
            flow = self.flows.get(client)
            if flow is None:
                upstream = _udp((self.upstream_ip, 0))
                upstream.connect(self.server)
                flow = self.flows[client] = Flow(upstream)
                self.loop.add_reader(upstream.fileno(), self._from_server, client, flow)
            self._forward(flow.to_server, lambda d, u=flow.upstream: u.send(d), data)

    def _from_server(self, client: Address, flow: Flow) -> None:
        for data, _ in _drain(flow.upstream):
            self._forward(flow.to_client, lambda d: self.listener.sendto(d, client), data)

    def _forward(self, direction: Direction, send: Any, data: bytes) -> None:
        due, number = direction.due(self.loop.time(), self.settings)
        if due <= self.loop.time():
            self._send(direction, send, data, number)
        else:
            self.loop.call_at(due, self._send, direction, send, data, number)

    @staticmethod
    def _send(direction: Direction, send: Any, data: bytes, number: int) -> None:
        try:
            send(data)
        except OSError:  # a full socket buffer, or the kernel's drop rule: the packet is lost
            return
        direction.left(number)

    def counts(self) -> dict[str, int]:
        flows = list(self.flows.values())
        return {
            "flows": len(flows),
            "to_server": sum(f.to_server.sent for f in flows),
            "to_client": sum(f.to_client.sent for f in flows),
            "reordered": sum(f.to_server.reordered + f.to_client.reordered for f in flows),
        }


def _udp(address: Address) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(address)
    sock.setblocking(False)
    return sock


def _drain(sock: socket.socket) -> list[tuple[bytes, Address]]:
    packets = []
    while True:
        try:
            packets.append(sock.recvfrom(65_535))
        except (BlockingIOError, ConnectionRefusedError):
            return packets


def _address(text: str) -> Address:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def main(args: argparse.Namespace) -> None:
    relay = Relay(args.listen, args.upstream_ip, args.server)
    print(json.dumps({"listening": list(args.listen)}), flush=True)
    reader = asyncio.StreamReader()
    await relay.loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
    )
    while line := await reader.readline():
        wanted = json.loads(line)
        relay.settings = Settings(
            delay_s=wanted.get("delay_ms", 0) / 1000,
            jitter_s=wanted.get("jitter_ms", 0) / 1000,
            reorder=bool(wanted.get("reorder", False)),
        )
        print(json.dumps(relay.counts()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", type=_address, required=True)
    parser.add_argument("--upstream-ip", required=True)
    parser.add_argument("--server", type=_address, required=True)
    asyncio.run(main(parser.parse_args()))
