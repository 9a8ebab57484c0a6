"""Is the machine quiet? A timing taken while other processes load the CPU tells nothing true (with as many threads
as cores, one busy core can cut decoding speed several times over), so ``python -m tools store`` and the benchmarks
wait for quiet before they measure, then say how many cores other processes kept busy meanwhile.
"""

from __future__ import annotations

import time


def wait_for_quiet(seconds: float, threshold: float = 10.0) -> bool:
    """Wait up to ``seconds`` until the whole machine's CPU use, over 3 s, is under ``threshold`` percent."""
    import psutil

    deadline = time.monotonic() + seconds
    while True:
        if psutil.cpu_percent(interval=3) < threshold:
            return True
        if time.monotonic() >= deadline:
            return False


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on this machine have used since boot (every core; idle and I/O wait excluded, and
    guest time, which Linux already counts in user time)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0) - getattr(
        times, "guest_nice", 0.0)


def own_cpu_seconds() -> float:
    """CPU seconds used by this process and by the processes it started and has waited for."""
    import psutil

    return sum(psutil.Process().cpu_times()[:4])  # user, system, children's user, children's system


class OtherLoad:
    """How many cores other processes keep busy, on average, from now on: ``load = OtherLoad()``, measure, then
    ``load.cores()``. This process and the children it has waited for by then do not count."""

    def __init__(self):
        self.started, self.busy, self.own = time.monotonic(), busy_cpu_seconds(), own_cpu_seconds()

    def cores(self) -> float:
        wall = time.monotonic() - self.started
        other = (busy_cpu_seconds() - self.busy) - (own_cpu_seconds() - self.own)
        return max(other, 0.0) / wall if wall > 0 else 0.0
