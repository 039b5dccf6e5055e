"""Test-suite set-up shared by every test.

ROS isolation: each test *process* (pytest itself and each xdist worker) takes its
own ROS_DOMAIN_ID, held with an exclusive lock file for the process lifetime, so
concurrent test runs on one machine (CI beside a developer, two xdist workers)
never hear each other; discovery is restricted to localhost. This runs at import,
before any test imports rclpy, and child processes inherit the environment.
"""

from __future__ import annotations

import os
import tempfile

from embodied_stack.common.ros_domain import claim_domain_id

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(tempfile.gettempdir(), "embodied_stack_xdg_cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

_DOMAIN_ID, _DOMAIN_LOCK = claim_domain_id()  # the file keeps the lock for this process's lifetime
os.environ["ROS_DOMAIN_ID"] = str(_DOMAIN_ID)
