"""``make_robot``: build the simulated or real implementation of a described robot, by name.

Like LeRobot's ``make_robot_from_config``: the description says what the robot is, the
backend says what talks to it (``sim``, ``feetech``, ``dynamixel``, ``ur_rtde``, ``xarm``, ``twist``...).
Implementations are imported only when built, so a machine without a vendor SDK can
still run everything else. Simulated robots are built by their world (the sim bridge
owns the physics), so ``sim`` is listed here only to name it in errors.
"""

from __future__ import annotations

import importlib
from typing import Any

from embodied_stack.config import ConfigError
from embodied_stack.hardware.robot import Robot
from embodied_stack.robots.description import RobotDescription, load_description

#: backend name -> "module:factory"; factory(description, settings: dict) -> Robot
BACKENDS: dict[str, str] = {
    "feetech": "embodied_stack.robots.bus_servo:make_feetech_arm",
    "dynamixel": "embodied_stack.robots.bus_servo:make_dynamixel_arm",
    "ur_rtde": "embodied_stack.robots.ur.robot:make_robot",
    "xarm": "embodied_stack.robots.xarm.robot:make_robot",
    "unitree": "embodied_stack.robots.go2.robot:make_robot",
    "twist": "embodied_stack.robots.twist_base.robot:make_robot",  # needs link=... (robot_driver passes it)
}
SIMULATED = "sim"


def make_robot(description: RobotDescription | str, backend: str, **overrides: Any) -> Robot:
    """The ``backend`` implementation of ``description`` (a description or a robot name),
    with the description's backend settings updated by ``overrides`` (e.g. ``port=...``)."""
    desc = description if isinstance(description, RobotDescription) else load_description(description)
    if backend == SIMULATED:
        raise ConfigError(f"robot '{desc.name}': simulated robots are built by their world; run the "
                          "sim bridge (embodied-stack launch sim_tabletop) instead of the robot driver")
    if backend not in BACKENDS:
        raise ConfigError(f"unknown robot backend '{backend}'; available: {sorted(BACKENDS)} "
                          f"(+ '{SIMULATED}')")
    settings = {**desc.backend(backend), **{k: v for k, v in overrides.items() if v not in (None, "")}}
    module_name, factory = BACKENDS[backend].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(f"backend '{backend}' cannot be imported ({e}); is its SDK installed? "
                          "run scripts/setup.sh") from e
    return getattr(module, factory)(desc, settings)
