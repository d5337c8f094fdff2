"""How many CPUs the Job may use (xgboost's n_jobs), from the container's cgroup limit."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """CPUs this process may use: the cgroup v2 CPU limit (quota/period, rounded up), capped by
    the CPUs it may be scheduled on; never the node's core count when a limit is set."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return max(cpus, 1)
    if quota == "max":
        return max(cpus, 1)
    return max(1, min(cpus, math.ceil(int(quota) / int(period))))
