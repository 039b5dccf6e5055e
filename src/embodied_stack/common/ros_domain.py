"""A ROS_DOMAIN_ID no other test or bench process on this machine holds.

Why a lock file per id: concurrent runs (CI beside a developer, xdist workers, a bench
started while tests run) must never hear each other's DDS traffic. The lock is held by
the returned open file for as long as the process keeps it; ROS-free on purpose (the
test suite claims its id before anything imports rclpy).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from typing import IO


def claim_domain_id(first: int = 1, last: int = 200) -> tuple[int, IO[str]]:
    """Lowest free id in ``first..last`` (Fast DDS's port formula allows up to 232) and the
    file that holds its lock; keep the file open for the process lifetime."""
    lock_dir = os.path.join(tempfile.gettempdir(), "embodied_stack_ros_domains")
    os.makedirs(lock_dir, exist_ok=True)
    for domain in range(first, last + 1):
        f = open(os.path.join(lock_dir, f"{domain}.lock"), "w")  # noqa: SIM115 - held for process life
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        return domain, f
    raise RuntimeError(f"no free ROS_DOMAIN_ID in {first}..{last} (locks in {lock_dir})")
