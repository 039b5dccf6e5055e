"""Stack descriptions: ``config/stacks/<name>.yaml``.

Format::

    description: two heartbeat nodes watching each other
    environment: {MUJOCO_GL: egl}          # extra env for every node (optional)
    nodes:
      - name: hb_a                          # ROS node name (one node per process)
        executable: heartbeat               # key of embodied_stack.nodes.NODES
        namespace: ""                       # optional
        params_files: [config/nodes/heartbeat.yaml]
        parameters: {peers: [hb_b]}         # overrides, applied after the files
        remappings: {/cmd_vel: /robot/cmd_vel}
        required: true                      # the stack fails if this node dies
        respawn: false
        respawn_delay_s: 1.0

Why YAML and not a launch file: the runner for pip installs must read it without
launch/launch_ros (not available as wheels), and ``ros2 launch`` users get the
same stack through ``launch/stack.launch.py``, which reads this too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embodied_stack import paths
from embodied_stack.config import ConfigError, from_dict, load_yaml
from embodied_stack.nodes import NODES


@dataclass
class NodeSpec:
    name: str
    executable: str
    namespace: str = ""
    params_files: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: dict[str, str] = field(default_factory=dict)
    required: bool = True
    respawn: bool = False
    respawn_delay_s: float = 1.0
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return NODES[self.executable].split(":")[0]

    def resolved_params_files(self) -> list[Path]:
        return [paths.resolve(f) for f in self.params_files]


@dataclass
class StackSpec:
    name: str
    description: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    nodes: list[NodeSpec] = field(default_factory=list)


def stacks_dir() -> Path:
    return paths.config_dir() / "stacks"


def available_stacks() -> list[str]:
    return sorted(p.stem for p in stacks_dir().glob("*.yaml"))


def load_stack(name_or_path: str) -> StackSpec:
    """Load a stack by name (``config/stacks/<name>.yaml``) or by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = stacks_dir() / f"{name_or_path}.yaml"
        if not path.exists():
            raise ConfigError(f"unknown stack '{name_or_path}'; available: {available_stacks()}")
    data = load_yaml(path) or {}
    source = str(path)
    raw_nodes = data.pop("nodes", None)
    if not raw_nodes:
        raise ConfigError(f"{source}: a stack needs a non-empty 'nodes' list")
    stack = from_dict(StackSpec, {"name": path.stem, **data}, source)
    names: set[str] = set()
    for i, raw in enumerate(raw_nodes):
        node = from_dict(NodeSpec, raw, f"{source}: nodes[{i}]")
        if node.executable not in NODES:
            raise ConfigError(f"{source}: node '{node.name}' has unknown executable '{node.executable}'; "
                              f"known: {sorted(NODES)}")
        full = f"{node.namespace.strip('/')}/{node.name}"
        if full in names:
            raise ConfigError(f"{source}: node name '{full}' appears twice")
        names.add(full)
        for f in node.resolved_params_files():
            if not f.exists():
                raise ConfigError(f"{source}: node '{node.name}': params file {f} does not exist")
        stack.nodes.append(node)
    return stack


def launch_node_kwargs(node: NodeSpec) -> dict[str, Any]:
    """Keyword arguments for ``launch_ros.actions.Node`` equivalent to how the runner
    starts ``node`` -- kept here so both paths are tested by the same test."""
    kwargs: dict[str, Any] = {
        "package": "embodied_stack",
        "executable": node.executable,
        "name": node.name,
        "parameters": [str(f) for f in node.resolved_params_files()]
        + ([node.parameters] if node.parameters else []),
        "remappings": list(node.remappings.items()),
        "respawn": node.respawn,
        "respawn_delay": node.respawn_delay_s,
        "output": "screen",
        "emulate_tty": True,
    }
    if node.namespace:
        kwargs["namespace"] = node.namespace
    if node.environment:
        kwargs["additional_env"] = dict(node.environment)
    return kwargs
