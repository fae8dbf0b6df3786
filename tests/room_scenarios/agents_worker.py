"""``examples/echo_agent.py``'s job in a livekit-agents worker that reports no load.

    python tests/room_scenarios/agents_worker.py dev     # as: python examples/echo_agent.py dev

livekit-agents reports the machine's CPU use as the worker's load, and livekit-server sends
a job only to a worker below its target load (0.7) and never to one at 1.0 ("no servers
available", "no workers with sufficient capacity"). The test machine is busy by design
(two cores, other tests, CPU hogs beside them), so the example's own worker got no job in
CI now and then, for a reason that is not lkframes'. Everything the worker runs is the
example's: its `entrypoint` and the same command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

from echo_agent import entrypoint  # the example, found above
from livekit.agents import WorkerOptions, cli


def no_load() -> float:
    """The load this worker reports: none, whatever else the machine runs."""
    return 0.0


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint, load_fnc=no_load))
