"""Test-suite set-up shared by every test.

ROS isolation: each test *process* (pytest itself and each xdist worker) takes its
own ROS_DOMAIN_ID, held with an exclusive lock file for the process lifetime, so
concurrent test runs on one machine (CI beside a developer, two xdist workers)
never hear each other; discovery is restricted to localhost. This runs at import,
before any test imports rclpy, and child processes inherit the environment.
"""

from __future__ import annotations

import fcntl
import os
import tempfile

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(tempfile.gettempdir(), "embodied_stack_xdg_cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

_DOMAIN_LOCK = None


def _claim_domain_id() -> int:
    """Lowest free domain id in 1..200 (Fast DDS's port formula allows up to 232)."""
    global _DOMAIN_LOCK
    lock_dir = os.path.join(tempfile.gettempdir(), "embodied_stack_ros_domains")
    os.makedirs(lock_dir, exist_ok=True)
    for domain in range(1, 201):
        f = open(os.path.join(lock_dir, f"{domain}.lock"), "w")  # noqa: SIM115 - held for process life
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        _DOMAIN_LOCK = f
        return domain
    raise RuntimeError(f"no free ROS_DOMAIN_ID in 1..200 (locks in {lock_dir})")


os.environ["ROS_DOMAIN_ID"] = str(_claim_domain_id())
