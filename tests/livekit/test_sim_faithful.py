"""The simulated room against the real one: the same script through livekit-server (real
clients, ``room_scenarios/sim_faithful.py``: two lkframes publishers and LiveKit's Go SDK)
and through `SimulatedRoom`, read by the same ``from_room`` code, must give the same
participants, talk lengths (±50 ms), placement of one participant against another on the
timeline (±30 ms: 4-14 ms idle, 21 ms once beside stress-ng, where the two real jitter
buffers start at different depths) and the Go client's talk where it was heard against
when it was sent, which needs no other participant (±50 ms: 30 ms simulated; 28-71 ms
real in 28 runs idle, a frame counted from when it began to play, the tail being where
the real NetEq started deeper, which the simulator does not model; 19-61 ms in 13 runs
alternated with those, when frames were counted from their end)
and end (the stream's end after the last ``participant_disconnected``, ±50 ms). What the
simulator does not model (NetEq's adaptive depth and concealment) is in
docs/cookbook/test-without-a-server.md."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from livekit_server import LiveKitServer
from lkframes.testing import SimulatedRoom, run_virtual

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "room_scenarios"))
from sim_faithful import GO, GO_LEAD_S, LEAD_S, OPUS_DELAY_S, PUBLISHERS, heard_in, spoken

SPEAKERS = {**PUBLISHERS, GO[0]: GO[1:]}
"""Who talks, and how long: the two lkframes publishers and the Go client."""
LEADS = dict.fromkeys(PUBLISHERS, LEAD_S) | {GO[0]: GO_LEAD_S + OPUS_DELAY_S}
"""How long before its talk onset each one's audio starts (G's plays `OPUS_DELAY_S` late)."""


def simulate(real: dict[str, Any]) -> dict[str, Any]:
    """The real run's script, with the times that really happened, in a SimulatedRoom."""
    t0 = min(sent["onset"] - LEADS[i] for i, sent in real["sent"].items()) - LEAD_S

    async def main() -> dict[str, Any]:
        room = SimulatedRoom()
        for identity, (_, seconds) in SPEAKERS.items():
            sent, lead = real["sent"][identity], LEADS[identity]
            who = room.participant(identity, leaves=sent["left"] - t0)
            audio = spoken(identity, seconds, round(lead * 48_000) / 48_000)
            who.publish_audio(audio, at=sent["onset"] - lead - t0)
        async with room:
            got = await heard_in(room)
            shift = t0 + room.clock() - asyncio.get_running_loop().time()  # loop -> real
        return {
            "heard": {i: [t + shift for t in span] for i, span in got["heard"].items()},
            "ended": got["ended"] + shift,
            "last_gone": got["last_gone"] + shift,
        }

    return run_virtual(main)


def test_the_simulator_places_and_ends_a_room_as_livekit_server_does(
    livekit_server: LiveKitServer, go_client: Path, tmp_path: Path
) -> None:
    real = livekit_server.scenario("sim_faithful", "sim-faithful", tmp_path, "--go", str(go_client))
    sim = simulate(real)
    assert set(real["heard"]) == set(sim["heard"]) == set(SPEAKERS)
    for identity in SPEAKERS:
        (r0, r1), (s0, s1) = real["heard"][identity], sim["heard"][identity]
        assert r1 - r0 == pytest.approx(s1 - s0, abs=0.05), identity
    real_gap = real["heard"]["B"][0] - real["heard"]["A"][0]
    sim_gap = sim["heard"]["B"][0] - sim["heard"]["A"][0]
    assert real_gap == pytest.approx(sim_gap, abs=0.03)
    # G's talk where the room played it: the Go client sends each packet when its time
    # comes, so from when it was due to when R heard it is the network and the jitter
    # buffer alone (A's and B's onsets are when they were captured, before their
    # AudioSource's tick and the encoder's 20 ms, which the simulated room does not add).
    g, onset = GO[0], real["sent"][GO[0]]["onset"]
    real_late, sim_late = real["heard"][g][0] - onset, sim["heard"][g][0] - onset
    print(
        f"B after A {real_gap:.4f}/{sim_gap:.4f} s; "
        f"G heard after sent {real_late:.4f}/{sim_late:.4f} s"
    )
    assert real_late == pytest.approx(sim_late, abs=0.05)
    # The end: the stream ends on the last leave, as long after the SDK's event as in the
    # simulation (the time for the event to arrive is the machine's, and not compared).
    real_end, sim_end = real["ended"] - real["last_gone"], sim["ended"] - sim["last_gone"]
    print(f"end after the event {real_end:.3f}/{sim_end:.3f} s")
    assert real_end == pytest.approx(sim_end, abs=0.05)
