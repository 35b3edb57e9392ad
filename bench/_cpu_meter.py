"""CPU a benchmark's run costs, whatever else the shared machine is doing: the CPU time of the
web workers, the database backends serving them and the client processes over the measured
window (from ``/proc``), and a reference loop that tells how fast the cores are right now."""

from __future__ import annotations

import os
import time

from _harness import database_url


def reference_loop_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop (best of five): how fast this machine's cores
    are right now. On a shared machine it moves by a third from one minute to the next; figures
    taken at different times compare only beside it (about 45 ms on a quiet one)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.process_time() - started)
    return best * 1000


def _ticks(pid: int) -> int:
    """User + system CPU of a process, in clock ticks (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _session_pids(session: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[3]) == session:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def _backend_pids(args) -> list[int]:
    import psycopg

    with psycopg.connect(database_url(args.pg_url, "postgres"), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [args.db]).fetchall()
    return [row[0] for row in rows]


def _machine_ticks() -> tuple[int, int]:
    """CPU the machine's own processes used (user, nice, system, irq, softirq) and the time the
    hypervisor ran other guests on its cores while it wanted them (steal), in clock ticks."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values[:3]) + sum(values[5:7]), values[7]


class CpuMeter:
    """CPU used during the measured window by the web workers, the database backends serving
    them and the client processes: what a report costs, whatever else the machine is doing."""

    def __init__(self, args, server, clients):
        self.args, self.server, self.clients = args, server, clients
        self.start: dict[str, dict[int, int]] = {}
        self.end: dict[str, dict[int, int]] = {}

    def _snapshot(self) -> dict[str, dict[int, int]]:
        groups = {
            "web": _session_pids(self.server.pid),
            "database": _backend_pids(self.args),
            "clients": [p.pid for p in self.clients],
        }
        snapshot = {name: {pid: _ticks(pid) for pid in pids} for name, pids in groups.items()}
        used, stolen = _machine_ticks()
        snapshot["machine"], snapshot["stolen"] = {0: used}, {0: stolen}
        return snapshot

    def run(self, measure_from: float, measure_to: float) -> None:
        time.sleep(max(0.0, measure_from - time.time()))
        self.start = self._snapshot()
        time.sleep(max(0.0, measure_to - time.time()))
        self.end = self._snapshot()

    def seconds(self) -> dict[str, float]:
        hertz = os.sysconf("SC_CLK_TCK")
        out = {}
        for name, after in self.end.items():
            before = self.start.get(name, {})
            out[name] = sum(max(0, ticks - before.get(pid, 0)) for pid, ticks in after.items()) / hertz
        return out
