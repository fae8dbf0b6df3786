"""A/V sync runs against LiveKit's Go SDK, through a real livekit-server (`livekit_server`).

One **round** is two publishings of the flash-and-beep clip (`sync_marks.make_clip`):

1. The Go client publishes; a Go client subscribes (the control, Go -> Go) while lkframes
   records the same publisher with ``record_participant`` to MP4 and to WebM.
2. lkframes publishes with ``publish_media``; a Go client subscribes while lkframes records
   it to MP4 (lkframes -> lkframes).

So every scenario has a control measured in the same round, on the same loaded machine.
The Go client (tests/goclient) is built once and cached by ``go_programs.py``.
"""

from __future__ import annotations

import json
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from go_programs import go_program
from sync_marks import Clip, Mark, file_marks, go_marks

import livekit_server as lks

ROUND_TIMEOUT_S = 60.0
"""How long a publishing may take beyond the clip's own length."""

SCENARIOS = (
    "Go -> Go (control)",
    "Go -> record_participant MP4",
    "Go -> record_participant WebM",
    "publish_media -> Go",
    "lkframes -> lkframes (MP4)",
)


def go_client() -> Path:
    """The Go client binary (tests/goclient), built once per machine by ``go_programs``.

    Raises:
        GoBuildError: Go is missing or the build failed; the message has its log.
    """
    return go_program("goclient")


def _go(
    server: lks.LiveKitServer, binary: Path, mode: str, room: str, identity: str, *args: str
) -> list[str]:
    """``goclient MODE`` inside the server's namespace, joining ``room`` as ``identity``."""
    return [
        *("ip", "netns", "exec", server.namespace, str(binary), mode),
        *("--url", server.url, "--key", server.api_key, "--secret", server.api_secret),
        *("--room", room, "--identity", identity, *args),
    ]


class _Processes:
    """Processes of one publishing; whatever is still running at the end is killed."""

    def __init__(self, stack: ExitStack, clip: Clip) -> None:
        self.running: list[subprocess.Popen[str]] = []
        self.timeout_s = ROUND_TIMEOUT_S + clip.seconds
        stack.callback(self._kill)

    def start(self, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.running.append(process)
        return process

    def ready(self, process: subprocess.Popen[str], what: str) -> None:
        if lks.wait_for_line(process, '"ready"', 30.0) is None:
            process.kill()
            out, err = process.communicate(timeout=5)
            raise lks.ScenarioError(f"{what} never got ready\n{out}\n{err}")

    def result(self, process: subprocess.Popen[str], what: str) -> dict[str, Any]:
        try:
            out, err = process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=5)
        lines = out.strip().splitlines()
        if not lks.finished(process.returncode) or not lines:
            raise lks.ScenarioError(f"{what} exited with {process.returncode}\n{out}\n{err}")
        result: dict[str, Any] = json.loads(lines[-1])
        return result

    def _kill(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=5)


def _lk_scenario(
    server: lks.LiveKitServer, clip: Clip, room: str, out: Path, *args: str
) -> list[str]:
    script = lks.SCENARIOS / "sync_lk.py"
    timeout = ("--timeout", str(ROUND_TIMEOUT_S + clip.seconds))
    return server.command([script, *server.credentials(room), "--out", str(out), *timeout, *args])


def go_publishes(
    server: lks.LiveKitServer, go: Path, clip: Clip, out: Path, room: str
) -> dict[str, list[Mark]]:
    """Go publishes; Go subscribes (the control); lkframes records to MP4 and WebM."""
    with ExitStack() as stack:
        run = _Processes(stack, clip)
        into = ("--out", str(out / "go"), "--seconds", str(ROUND_TIMEOUT_S + clip.seconds))
        sub = run.start(_go(server, go, "subscribe", room, "go-sub", "--from", "go-pub", *into))
        run.ready(sub, "the Go subscriber")
        lk_rec = run.start(
            _lk_scenario(server, clip, room, out, "--mode", "record", "--from", "go-pub"),
            env=server.env(),
        )
        run.ready(lk_rec, "the lkframes recorders")
        pub = run.start(
            _go(
                server,
                go,
                "publish",
                room,
                "go-pub",
                "--opus",
                str(clip.ogg),
                "--ivf",
                str(clip.ivf),
            )
        )
        run.result(pub, "the Go publisher")
        run.result(sub, "the Go subscriber")
        files = run.result(lk_rec, "the lkframes recorders")["files"]
    return {
        SCENARIOS[0]: go_marks(out / "go"),
        SCENARIOS[1]: file_marks(Path(files["mp4"])),
        SCENARIOS[2]: file_marks(Path(files["webm"])),
    }


def lkframes_publishes(
    server: lks.LiveKitServer, go: Path, clip: Clip, out: Path, room: str
) -> dict[str, list[Mark]]:
    """lkframes publishes with publish_media; Go subscribes; lkframes records to MP4."""
    with ExitStack() as stack:
        run = _Processes(stack, clip)
        into = ("--out", str(out / "go"), "--seconds", str(ROUND_TIMEOUT_S + clip.seconds))
        sub = run.start(_go(server, go, "subscribe", room, "go-sub", "--from", "lk-pub", *into))
        run.ready(sub, "the Go subscriber")
        lk_pub = run.start(
            _lk_scenario(
                server,
                clip,
                room,
                out,
                "--mode",
                "publish",
                "--from",
                "lk-pub",
                "--clip",
                str(clip.mp4),
            ),
            env=server.env(),
        )
        files = run.result(lk_pub, "publish_media and its recorder")["files"]
        run.result(sub, "the Go subscriber")
    return {
        SCENARIOS[3]: go_marks(out / "go"),
        SCENARIOS[4]: file_marks(Path(files["mp4"])),
    }


def sync_round(
    server: lks.LiveKitServer, go: Path, clip: Clip, out: Path, name: str
) -> dict[str, list[Mark]]:
    """One round: every scenario once, the control first."""
    (out / "go-pub").mkdir(parents=True, exist_ok=True)
    (out / "lk-pub").mkdir(parents=True, exist_ok=True)
    marks = go_publishes(server, go, clip, out / "go-pub", f"{name}-go")
    marks.update(lkframes_publishes(server, go, clip, out / "lk-pub", f"{name}-lk"))
    return marks
