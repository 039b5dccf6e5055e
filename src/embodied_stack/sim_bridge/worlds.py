"""The worlds the sim bridge can run, by name (ROS-free)."""

from __future__ import annotations

from collections.abc import Callable

from embodied_stack.sim.world import SimWorld


def _tabletop(config: str) -> SimWorld:
    from embodied_stack.sim.tabletop import TabletopWorld

    return TabletopWorld(config or None)


def _indoor(config: str) -> SimWorld:
    from embodied_stack.sim.indoor import IndoorConfig, IndoorWorld

    return IndoorWorld(IndoorConfig.from_yaml(config) if config else None)


def _mobile_manipulation(config: str) -> SimWorld:
    from embodied_stack.sim.mobile_manipulation import MobileManipulationWorld

    return MobileManipulationWorld(config or None)


#: The robot description (config/robots/) of each world's robot(s): their cameras' topic namespaces,
#: kinematics for /tf and limits come from there.
WORLD_ROBOTS: dict[str, str] = {"tabletop": "so101", "indoor": "go2",
                                 "mobile_manipulation": "go2_so101"}  # a composite: the arm on the dog

WORLDS: dict[str, Callable[[str], SimWorld]] = {"tabletop": _tabletop, "indoor": _indoor,
                                                "mobile_manipulation": _mobile_manipulation}


def make_world(name: str, config: str = "") -> SimWorld:
    """Build world ``name`` from its YAML (``config``; '' = the world's default file)."""
    if name not in WORLDS:
        raise ValueError(f"unknown world '{name}'; available: {sorted(WORLDS)}")
    return WORLDS[name](config)
