"""What tests need of the process and its children: memory, a file size limit, a kill."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def rss_mib() -> float:
    """The resident set size of this process now (VmRSS), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line in /proc/self/status")


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Files of this process cannot grow past ``limit`` bytes (EFBIG, like a full disk)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills us
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def kill_after(script: str, *args: str, count: int) -> int:
    """Run ``python -c script args`` (which prints 0, 1, 2, ... as it makes things), SIGKILL
    it once it has printed ``count`` numbers (or after 60 s); how many it had made."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    made = 0
    deadline = time.monotonic() + 60
    for line in child.stdout:
        made = int(line) + 1
        if made >= count or time.monotonic() > deadline:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    return made
