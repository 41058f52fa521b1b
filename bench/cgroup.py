"""A process given Lambda's CPU time and memory for a memory size, without a container: cgroup v1
cpu and memory controller groups (root only), every CPU still visible, as on Lambda."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..deploy.local.sandbox import cpus_for

CGROUPS = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


class Unavailable(Exception):
    """No cgroup v1 cpu and memory controllers can be written here: the reason, in one line."""


@contextmanager
def limited(memory_mb: int, name: str = "lambda-tabular-bench") -> Iterator[list[str]]:
    """A command prefix that runs a program inside groups capped at ``memory_mb``'s CPU share and memory."""
    groups = {controller: CGROUPS / controller / f"{name}-{os.getpid()}" for controller in ("cpu", "memory")}
    if os.geteuid() != 0 or not all(group.parent.is_dir() for group in groups.values()):
        raise Unavailable("needs root and the cgroup v1 cpu and memory controllers under /sys/fs/cgroup")
    made = []
    try:
        for group in groups.values():
            group.mkdir()
            made.append(group)
        (groups["cpu"] / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (groups["cpu"] / "cpu.cfs_quota_us").write_text(str(int(cpus_for(memory_mb) * PERIOD_US)))
        (groups["memory"] / "memory.limit_in_bytes").write_text(str(memory_mb * 2**20))
    except OSError as err:
        _remove(made)
        raise Unavailable(f"cannot set up the cgroups: {err}") from None
    tasks = " ".join(str(group / "tasks") for group in groups.values())
    try:
        yield ["sh", "-c", f'for t in {tasks}; do echo $$ > "$t"; done && exec "$@"', "sh"]
    finally:
        _remove(made)


def _remove(groups: list[Path]) -> None:
    for group in reversed(groups):
        group.rmdir()
