"""An impaired network between livekit-server and its clients, for the room tests.

Three network namespaces made by the test, nothing routed out::

    server  10.78.1.1 ── veth ── 10.78.1.2  middle  10.78.2.1 ── veth ── 10.78.2.2  clients

The middle forwards TCP (the signalling WebSocket) and no UDP: media reach the server only
through the UDP relay in the middle (``udp_relay.py``), whose client-side address the
server advertises as its own (``rtc.node_ip``, one UDP port). The ICE-TCP candidate it also
advertises points at the middle, where nothing listens, so a session that connects has
connected over UDP through the relay. Impairments, all in the middle, on the relayed media
(`ImpairedNetwork.impair`):

- random loss: nftables ``numgen random mod 100 < N drop`` on UDP arriving in the middle
  from either side (N % each way);
- a rate cap: ``tc tbf`` on the egress of both of the middle's veths (each direction);
- an outage: nftables rules that drop everything (UDP and the WebSocket) for a while;
- delay, jitter and reordering: the relay holds each packet ``delay ± jitter``.

This kernel has no ``netem`` qdisc and no ``NFQUEUE`` (``nft ... queue`` fails), hence the
relay for the delay. It runs at ``nice -15``: it plays the network, which a busy client
machine does not slow down (starved, it stalled packets for ~0.5 s beside ``stress-ng``).
All of it needs root; without it the fixture skips with ``ip``'s error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import livekit_server as lks

SERVER_IP = "10.78.1.1"
MIDDLE_SERVER_SIDE_IP = "10.78.1.2"
MIDDLE_CLIENT_SIDE_IP = "10.78.2.1"
CLIENT_IP = "10.78.2.2"
UDP_PORT = 7882
RELAY = Path(__file__).with_name("udp_relay.py")
TABLE = "impair"
OUTAGE_CHAINS = ("outage_in", "outage_out")

CONFIG = f"""\
port: {lks.PORT}
bind_addresses: ["{SERVER_IP}"]
rtc:
  tcp_port: 7881
  udp_port: {UDP_PORT}
  use_external_ip: false
  node_ip: {MIDDLE_CLIENT_SIDE_IP}
keys:
  {lks.API_KEY}: {lks.API_SECRET}
logging:
  level: info
"""
"""Advertises the relay (the middle's client-side address) as the server's media address."""

RULESET = f"""\
table inet {TABLE} {{
  chain forward {{
    type filter hook forward priority 0; policy accept;
    meta l4proto udp drop
  }}
  chain input {{
    type filter hook input priority 0; policy accept;
  }}
  chain outage_in {{
    type filter hook prerouting priority -200; policy accept;
  }}
  chain outage_out {{
    type filter hook output priority -200; policy accept;
  }}
}}
"""
"""The middle's filter: no UDP past the relay. Loss rules go into ``input`` (the relay's
packets from either side); the outage's into ``outage_in`` (everything arriving) and
``outage_out`` (what the relay still sends)."""


@dataclass
class Impairment:
    """What `ImpairedNetwork.impair` applied, and when its outage really ran."""

    loss_percent: int = 0
    cap_kbit: int | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    reorder: bool = False
    outage_began: float | None = None
    """``time.monotonic()`` (the same clock in every namespace) when the drop rule went in."""
    outage_ended: float | None = None
    relay_counts: dict[str, int] = field(default_factory=dict)
    """What the relay forwarded while impaired (`udp_relay.Relay.counts`, a difference)."""


@dataclass
class ImpairedNetwork:
    """The three namespaces and the relay; `impair` changes the conditions between tests."""

    server_namespace: str
    middle: str
    clients: str
    relay: subprocess.Popen[str]

    def nft(self, *args: str) -> None:
        lks.ip("netns", "exec", self.middle, "nft", *args)

    def tc(self, *args: str) -> None:
        lks.ip("netns", "exec", self.middle, "tc", *args)

    def relay_settings(self, delay_ms: float, jitter_ms: float, reorder: bool) -> dict[str, int]:
        """Set the relay's delay; returns its packet counts so far."""
        assert self.relay.stdin is not None
        wanted = {"delay_ms": delay_ms, "jitter_ms": jitter_ms, "reorder": reorder}
        self.relay.stdin.write(json.dumps(wanted) + "\n")
        self.relay.stdin.flush()
        line = lks.read_line(self.relay, 5.0)
        if line is None:
            raise RuntimeError(f"the UDP relay did not answer (exit {self.relay.poll()})")
        counts: dict[str, int] = json.loads(line)
        return counts

    @contextmanager
    def impair(
        self,
        *,
        loss_percent: int = 0,
        cap_kbit: int | None = None,
        delay_ms: float = 0.0,
        jitter_ms: float = 0.0,
        reorder: bool = False,
    ) -> Iterator[Impairment]:
        """Impair the network while inside; everything is undone on exit.

        Args:
            loss_percent: Drop this many % of UDP packets at random, in each direction.
            cap_kbit: Cap each direction at this many kbit/s (``tc tbf``).
            delay_ms: Hold each packet this long (in the relay) ...
            jitter_ms: ... plus or minus up to this much, uniformly.
            reorder: Let a packet overtake an earlier one (else order is kept).

        An outage is `outage`, called while inside.
        """
        applied = Impairment(loss_percent, cap_kbit, delay_ms, jitter_ms, reorder)
        with ExitStack() as undo:
            undo.callback(self._clear)
            if loss_percent:
                self.nft(
                    "add", "rule", "inet", TABLE, "input", "meta", "l4proto", "udp",
                    "numgen", "random", "mod", "100", "<", str(loss_percent), "drop",
                )  # fmt: skip
            if cap_kbit is not None:
                for device in ("m1", "m2"):
                    self.tc(
                        "qdisc", "replace", "dev", device, "root", "tbf",
                        "rate", f"{cap_kbit}kbit", "burst", "4kb", "latency", "200ms",
                    )  # fmt: skip
            before = self.relay_settings(delay_ms, jitter_ms, reorder)
            yield applied
        after = self.relay_settings(0.0, 0.0, False)
        applied.relay_counts = {key: after[key] - before.get(key, 0) for key in after}

    def outage(self, length_s: float, applied: Impairment | None = None) -> None:
        """Drop every packet in the middle (UDP and TCP, both ways) for ``length_s``;
        returns when it is over. Notes when it really began and ended in ``applied``."""
        for chain in OUTAGE_CHAINS:
            self.nft("add", "rule", "inet", TABLE, chain, "drop")
        began = time.monotonic()
        try:
            time.sleep(length_s)
        finally:
            for chain in OUTAGE_CHAINS:
                self.nft("flush", "chain", "inet", TABLE, chain)
        if applied is not None:
            applied.outage_began, applied.outage_ended = began, time.monotonic()

    def _clear(self) -> None:
        for chain in ("input", *OUTAGE_CHAINS):
            self.nft("flush", "chain", "inet", TABLE, chain)
        for device in ("m1", "m2"):
            with suppress(lks.NamespaceError):  # none was added: nothing to undo
                self.tc("qdisc", "del", "dev", device, "root")


@dataclass
class ImpairedServer:
    """A livekit-server behind an `ImpairedNetwork` (the ``impaired_server`` fixture)."""

    server: lks.LiveKitServer
    network: ImpairedNetwork

    def scenario(
        self,
        name: str,
        room: str,
        out: Path,
        *args: str,
        on_publishing: Callable[[], object] | None = None,
        timeout: float = 90.0,
    ) -> dict[str, Any]:
        """Run a room scenario as `LiveKitServer.scenario` does (given 60 s: ``--timeout``
        is added); ``on_publishing`` is called once it prints ``publishing`` (to start an
        outage, or a delay, once connected).

        Raises:
            ScenarioError: It failed, or never said ``publishing`` for ``on_publishing``.
            ProcessTimeout: It did not end within ``timeout`` seconds.
        """
        args = ("--timeout", "60", *args)
        if on_publishing is None:
            return self.server.scenario(name, room, out, *args, timeout=timeout)
        process = self.server.spawn(self.server.scenario_command(name, room, out, *args))
        if lks.wait_for_line(process, "publishing", timeout) is None:
            process.kill()
            stdout, stderr = process.communicate(timeout=5)
            return self.server.scenario_result(name, process.returncode, stdout, stderr)
        on_publishing()
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate(timeout=5)
            raise lks.ProcessTimeout(
                f"{name}.py did not end within {timeout} s (killed)\n"
                f"--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
            ) from None
        return self.server.scenario_result(name, process.returncode, stdout, stderr)


@contextmanager
def impaired_server(binary: Path, workdir: Path, name: str) -> Iterator[ImpairedServer]:
    """livekit-server in the server namespace of a new `impaired_network` ``name``, its
    clients in the clients' namespace.

    Raises:
        NamespaceError: The network cannot be made.
        RuntimeError: The server did not start (with its log).
    """
    with (
        impaired_network(name) as network,
        lks.running_server(
            binary,
            workdir,
            network.server_namespace,
            config=CONFIG,
            server_ip=SERVER_IP,
            client_namespace=network.clients,
        ) as server,
    ):
        yield ImpairedServer(server, network)


@contextmanager
def impaired_network(name: str) -> Iterator[ImpairedNetwork]:
    """Make the three namespaces ``NAME-s``, ``NAME-m``, ``NAME-c`` and start the relay.

    Raises:
        NamespaceError: A namespace, link, rule or the relay cannot be made (the exact
            error text).
    """
    with ExitStack() as stack:
        server, middle, clients = (
            stack.enter_context(lks.bare_namespace(f"{name}-{end}")) for end in "smc"
        )
        _link((server, "s0", SERVER_IP), (middle, "m1", MIDDLE_SERVER_SIDE_IP))
        _link((clients, "c0", CLIENT_IP), (middle, "m2", MIDDLE_CLIENT_SIDE_IP))
        lks.ip("-n", server, "route", "add", "default", "via", MIDDLE_SERVER_SIDE_IP)
        lks.ip("-n", clients, "route", "add", "default", "via", MIDDLE_CLIENT_SIDE_IP)
        lks.ip("netns", "exec", middle, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        _load_ruleset(middle)
        relay = subprocess.Popen(
            [
                *("ip", "netns", "exec", middle, "nice", "-n", "-15"),
                *(sys.executable, str(RELAY)),
                *("--listen", f"{MIDDLE_CLIENT_SIDE_IP}:{UDP_PORT}"),
                *("--upstream-ip", MIDDLE_SERVER_SIDE_IP),
                *("--server", f"{SERVER_IP}:{UDP_PORT}"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(_stop, relay)
        if lks.read_line(relay, 10.0) is None:
            raise lks.NamespaceError(f"the UDP relay did not start (exit {relay.poll()})")
        yield ImpairedNetwork(server, middle, clients, relay)


def _link(*ends: tuple[str, str, str]) -> None:
    """A veth between two ``(namespace, device, address)`` ends, addressed and up."""
    (left, left_dev, _), (right, right_dev, _) = ends
    lks.ip("-n", left, "link", "add", left_dev, "type", "veth", "peer", "name", right_dev,
           "netns", right)  # fmt: skip
    for namespace, device, address in ends:
        lks.ip("-n", namespace, "addr", "add", f"{address}/24", "dev", device)
        lks.ip("-n", namespace, "link", "set", device, "up")


def _load_ruleset(middle: str) -> None:
    try:
        done = subprocess.run(
            ["ip", "netns", "exec", middle, "nft", "-f", "-"],
            input=RULESET,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise lks.NamespaceError(f"nft could not run: {exc}") from None
    if done.returncode != 0:
        raise lks.NamespaceError(f"nft -f failed: {done.stderr.strip()}")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=5)
