"""How much memory DuckDB may use, per role of the process that opens the warehouse.

A worker only appends batches (a small buffer pool keeps its RSS flat; DuckDB spills past
it), the dashboard scans and aggregates (more is faster), and bulk jobs (reprocess, retention,
archive) sit in between. Each role defaults to a share of the machine's memory, within bounds,
and ``CALLSCOPE_DUCKDB_MEMORY_<ROLE>`` (e.g. ``CALLSCOPE_DUCKDB_MEMORY_WORKER=128MB``) wins.
"""

from __future__ import annotations

import os
from typing import Literal

Role = Literal["worker", "dashboard", "bulk"]

# (share of machine memory, floor MB, ceiling MB)
_SHARES: dict[str, tuple[float, int, int]] = {
    "worker": (0.02, 64, 256),
    "dashboard": (0.15, 256, 4096),
    "bulk": (0.10, 128, 2048),
}


def machine_memory_mb() -> int:
    """Physical memory in MB (cgroup limits are what psutil reports inside containers)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)
    except (
        ValueError,
        OSError,
        AttributeError,
    ):  # no psutil, or an exotic platform: assume a small machine
        return 2048


def memory_limit_for(role: Role, total_mb: int | None = None) -> str:
    """The DuckDB ``memory_limit`` for a role, e.g. ``'96MB'``."""
    given = os.environ.get(f"CALLSCOPE_DUCKDB_MEMORY_{role.upper()}")
    if given and given.strip():
        return given.strip()
    share, floor, ceiling = _SHARES[role]
    total = machine_memory_mb() if total_mb is None else total_mb
    return f"{max(floor, min(ceiling, int(total * share)))}MB"
