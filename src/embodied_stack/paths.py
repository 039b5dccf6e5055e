"""Where the package's data folders (``config/``, ``sim/``, ``launch/``) live.

Why: the same code runs from a source checkout (``pip install -e .``), from a pip
wheel, and from a colcon install on a ROS machine, where data files are installed
under ``share/embodied_stack``. Everything that opens a YAML, MJCF or checkpoint
resolves it here instead of guessing relative paths.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE_NAME = "embodied_stack"
_DATA_DIRS = ("config", "sim", "launch", "checkpoints")


@lru_cache(maxsize=1)
def share_dir() -> Path:
    """Root that holds ``config/``, ``sim/`` and ``launch/``.

    Search order: ``$EMBODIED_STACK_SHARE``; the source checkout this module lives
    in (``<repo>/src/embodied_stack`` -> ``<repo>``); ``<prefix>/share/embodied_stack``
    of the running interpreter; every prefix on ``AMENT_PREFIX_PATH``.
    """
    candidates: list[Path] = []
    env = os.environ.get("EMBODIED_STACK_SHARE")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[2])
    candidates.append(Path(sys.prefix) / "share" / PACKAGE_NAME)
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / PACKAGE_NAME)
    for candidate in candidates:
        if (candidate / "config").is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"cannot find embodied_stack's config/ folder (searched: {searched}); "
        "set EMBODIED_STACK_SHARE to the repository root or reinstall the package"
    )


def config_dir() -> Path:
    return share_dir() / "config"


def sim_dir() -> Path:
    return share_dir() / "sim"


def checkpoints_dir() -> Path:
    return share_dir() / "checkpoints"


def resolve(path: str | os.PathLike[str]) -> Path:
    """Resolve a path given in config: absolute, relative to the cwd if it exists,
    else relative to the share dir (so ``config/nodes/x.yaml`` works anywhere)."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p.resolve()
    return share_dir() / p
