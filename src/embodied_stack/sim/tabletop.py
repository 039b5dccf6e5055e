"""The tabletop world: an SO-arm, a table, graspable objects, a bowl and a bin.

:class:`TabletopWorld` is the :class:`~embodied_stack.sim.world.SimWorld` the
tabletop Gymnasium envs and the sim bridge step; :class:`SimArm` is the arm behind
the same :class:`~embodied_stack.hardware.Robot` interface a real SO-101 driver
implements (joint position targets + gripper, wrist and scene cameras).

Domain randomisation (object poses, colours, lighting, camera pose jitter,
friction/mass) is driven by :class:`RandomizationConfig` from
``config/sim/tabletop.yaml`` and by one ``numpy`` generator seeded in
:meth:`TabletopWorld.reset`, so a seed fixes everything: the same seed gives the
same scene and, with the same actions, the same trajectory.

Which objects can be grasped is a property of the world, not of the code: the config's
``objects`` (default :data:`DEFAULT_OBJECTS`, the four of ``sim/worlds/tabletop.xml``) names
them, and ``config/sim/tabletop_clutter.yaml`` loads a world with six.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from embodied_stack import paths
from embodied_stack.config import ConfigError, from_dict, load_yaml
from embodied_stack.hardware import CameraFrame, JointCommand, Robot, RobotState
from embodied_stack.language.vocab import COLORS, SHAPES
from embodied_stack.sim import so_arm
from embodied_stack.sim.judge import inside_container
from embodied_stack.sim.rendering import CameraRig
from embodied_stack.sim.world import GroundTruthObject, SimWorld

DEFAULT_CONFIG = Path("config/sim/tabletop.yaml")
#: Object colours when colour randomisation is off, the first one per object in the world's order (the
#: default four: red, green, blue, yellow); one per vocab colour, as many as a world may have objects.
DEFAULT_COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "white", "black")


@dataclass(frozen=True)
class TabletopObject:
    """A graspable object of a tabletop world; its MJCF body, freejoint and geom all carry the name it
    is listed under (``TabletopConfig.objects``)."""

    shape: str  # label from vocab.SHAPES: the word instructions and perception use for it
    size: tuple[float, float, float]  # full extents, m (TabletopWorld checks them against the MJCF geom)


#: The default world's objects (sim/worlds/tabletop.xml). Their order is the order of placement and
#: of the colour draw, so it is part of what a seed means: keep it.
DEFAULT_OBJECTS: dict[str, TabletopObject] = {
    "cube_a": TabletopObject("cube", (0.032, 0.032, 0.032)),
    "cube_b": TabletopObject("cube", (0.032, 0.032, 0.032)),
    "cylinder_a": TabletopObject("cylinder", (0.032, 0.032, 0.044)),
    "sphere_a": TabletopObject("sphere", (0.036, 0.036, 0.036)),
}


@dataclass
class RandomizationConfig:
    """What :meth:`TabletopWorld.reset` randomises; ranges are uniform."""

    enabled: bool = True
    object_poses: bool = True
    colors: bool = True
    lighting: bool = True
    camera_pose: bool = True
    physics: bool = True
    camera_pos_jitter: float = 0.01  # m per axis
    camera_rot_jitter: float = 0.03  # rad
    light_diffuse: tuple[float, float] = (0.35, 0.85)
    light_dir_jitter: float = 0.3  # added to the light direction's x/y components
    friction_scale: tuple[float, float] = (0.8, 1.2)
    mass_scale: tuple[float, float] = (0.7, 1.3)

    def on(self, item: str) -> bool:
        return self.enabled and bool(getattr(self, item))


@dataclass
class WorkspaceConfig:
    """Where objects and containers may be placed (polar, around the arm base)."""

    object_radius: tuple[float, float] = (0.13, 0.22)  # m
    object_azimuth: tuple[float, float] = (-0.85, 0.85)  # rad
    min_separation: float = 0.065  # m
    container_radius: tuple[float, float] = (0.19, 0.21)  # m
    container_azimuth: tuple[float, float] = (1.0, 1.2)  # rad; bowl at +, bin at -


@dataclass
class TabletopConfig:
    model: str = "sim/worlds/tabletop.xml"  # MJCF, resolved by embodied_stack.paths.resolve
    control_dt: float = 0.04  # s
    camera_width: int = 128
    camera_height: int = 128
    camera_depth: bool = True
    workspace: WorkspaceConfig = field(default_factory=WorkspaceConfig)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
    #: graspable objects: MJCF name -> shape and size; each gets its own colour, so at most len(COLORS)
    objects: dict[str, TabletopObject] = field(default_factory=lambda: dict(DEFAULT_OBJECTS))

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_CONFIG) -> TabletopConfig:
        """Load a world config. ``extends: <path>`` starts from another file and overrides its
        top-level keys (a variant world states only what differs, so the two cannot drift apart)."""
        data = load_yaml(path) or {}
        base = data.pop("extends", None)
        if base is not None:
            if Path(paths.resolve(base)) == Path(paths.resolve(path)):
                raise ConfigError(f"{path}: extends itself")
            data = {**(load_yaml(base) or {}), **data}
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "tabletop config") -> TabletopConfig:
        data = dict(data)
        ws = from_dict(WorkspaceConfig, _tuples(data.pop("workspace", {}) or {}), f"{source}: workspace")
        rnd = from_dict(RandomizationConfig, _tuples(data.pop("randomization", {}) or {}),
                        f"{source}: randomization")
        if "objects" in data:
            data["objects"] = _objects(data["objects"], source)
        cfg = from_dict(cls, {**data, "workspace": ws, "randomization": rnd}, source)
        if not cfg.control_dt > 0:
            raise ConfigError(f"{source}: control_dt must be > 0 s, got {cfg.control_dt}")
        return cfg

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tuples(d: dict[str, Any]) -> dict[str, Any]:
    """YAML gives lists where the dataclasses hold (low, high) tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def _objects(data: Any, source: str) -> dict[str, TabletopObject]:
    """The YAML ``objects`` mapping (name -> {shape, size}), checked here because a wrong shape word or
    one object too many would otherwise surface only as a bad instruction or a failed colour draw."""
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{source}: objects must be a non-empty mapping of MJCF name -> {{shape, size}}")
    graspable = sorted(set(SHAPES) - {label for label, _, _ in so_arm.TABLETOP_CONTAINERS.values()})
    out: dict[str, TabletopObject] = {}
    for name, spec in data.items():
        where = f"{source}: objects.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: expected {{shape: <word>, size: [x, y, z]}}, got {spec!r}")
        obj = from_dict(TabletopObject, _tuples(spec), where)
        if obj.shape not in graspable:
            raise ConfigError(f"{where}: shape '{obj.shape}' is not a graspable shape of vocab.SHAPES "
                              f"{graspable}")
        if len(obj.size) != 3 or not all(isinstance(v, int | float) and v > 0 for v in obj.size):
            raise ConfigError(f"{where}: size must be three positive extents in m, got {obj.size!r}")
        out[str(name)] = TabletopObject(obj.shape, tuple(float(v) for v in obj.size))
    if len(out) > len(COLORS):
        raise ConfigError(f"{source}: {len(out)} objects, but each needs its own colour and vocab.COLORS "
                          f"has {len(COLORS)}")
    return out


def yaw_quat_wxyz(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


class SimArm(Robot):
    """The simulated SO-arm: joint position targets through MuJoCo position actuators,
    a parallel gripper (opening 0 closed .. 1 open) and RGB-D wrist + scene cameras
    (those of them the model has).

    It reads and writes the world's ``MjData`` directly; the world steps physics.

    Args:
        prefix: prepended to every MJCF name it looks up, for a world that attaches the
            arm with a name prefix (``<attach prefix="arm_">`` in mobile_manipulation.xml).
            Joint and camera names it reports stay unprefixed, so topics and datasets do
            not depend on which world the arm is in.
    """

    capabilities = frozenset({"arm", "gripper"})

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, camera_width: int = 128,
                 camera_height: int = 128, camera_depth: bool = True, name: str = so_arm.ROBOT_NAME,
                 prefix: str = "") -> None:
        super().__init__(name, joint_limits=so_arm.joint_limits())
        self.model, self.data = model, data
        self.prefix = prefix
        joints = [model.joint(prefix + j) for j in so_arm.JOINT_NAMES]
        self._qadr = np.array([int(j.qposadr[0]) for j in joints])
        self._vadr = np.array([int(j.dofadr[0]) for j in joints])
        self._act = np.array([model.actuator(prefix + a).id for a in so_arm.JOINT_NAMES])
        self._grip_act = model.actuator(prefix + so_arm.GRIPPER_ACTUATOR).id
        self._finger_qadrs = [int(model.joint(prefix + j).qposadr[0]) for j in so_arm.FINGER_JOINTS]
        in_model = {model.camera(i).name for i in range(model.ncam)}
        self._cameras = [c for c in so_arm.CAMERAS if prefix + c in in_model]
        self._camera_size = (camera_width, camera_height)
        self._camera_depth = camera_depth
        self._rig: CameraRig | None = None

    @property
    def camera_names(self) -> list[str]:
        return list(self._cameras)

    # --- direct accessors used by envs (no connection guard: the world owns the arm) --------
    @property
    def joint_positions(self) -> np.ndarray:
        return self.data.qpos[self._qadr].copy()

    @property
    def joint_targets(self) -> np.ndarray:
        return self.data.ctrl[self._act].copy()

    @property
    def gripper_opening(self) -> float:
        return float(np.clip(self.data.qpos[self._finger_qadrs[0]] / so_arm.FINGER_TRAVEL, 0.0, 1.0))

    @property
    def gripper_target(self) -> float:
        return float(self.data.ctrl[self._grip_act] / so_arm.FINGER_TRAVEL)

    def set_pose(self, q: np.ndarray, gripper: float) -> None:
        """Teleport to ``q`` (rad) with targets there too: for resets only, never while running."""
        self.data.qpos[self._qadr] = q
        self.data.qvel[self._vadr] = 0.0
        self.data.ctrl[self._act] = q
        finger = gripper * so_arm.FINGER_TRAVEL
        self.data.qpos[self._finger_qadrs] = finger
        self.data.ctrl[self._grip_act] = finger

    # --- Robot hooks ----------------------------------------------------------------------
    def _connect(self) -> None:
        pass  # the world built model and data; nothing to open

    def _disconnect(self) -> None:
        if self._rig is not None:
            self._rig.close()
            self._rig = None

    def _read_state(self) -> RobotState:
        return RobotState(
            stamp=float(self.data.time),
            joint_names=list(so_arm.JOINT_NAMES),
            joint_positions=self.joint_positions,
            joint_velocities=self.data.qvel[self._vadr].copy(),
            joint_efforts=self.data.actuator_force[self._act].copy(),
            gripper=self.gripper_opening,
        )

    def _read_cameras(self) -> dict[str, CameraFrame]:
        if self._rig is None:
            self._rig = CameraRig(self.model, [self.prefix + c for c in self._cameras], *self._camera_size,
                                  depth=self._camera_depth)
        frames = self._rig.render(self.data, float(self.data.time)).values()  # keyed by prefixed names
        return {c: replace(f, frame_id=f"{c}_optical_frame")
                for c, f in zip(self._cameras, frames, strict=True)}

    def _write_joint_command(self, command: JointCommand) -> None:
        self.data.ctrl[self._act] = command.positions
        if command.gripper is not None:
            self.data.ctrl[self._grip_act] = command.gripper * so_arm.FINGER_TRAVEL

    def _stop(self) -> None:
        self.data.ctrl[self._act] = self.joint_positions  # hold where it is


class TabletopWorld(SimWorld):
    """SO-arm on a table with graspable objects (:attr:`objects`, from the config; by default
    two cubes, a cylinder and a ball), a bowl and a bin, all placed and coloured per
    :class:`TabletopConfig` at each reset.

    Args:
        config: a :class:`TabletopConfig`, a path to its YAML, or None for
            ``config/sim/tabletop.yaml``.
    """

    name = "tabletop"

    def __init__(self, config: TabletopConfig | str | Path | None = None) -> None:
        if config is None or isinstance(config, str | Path):
            config = TabletopConfig.from_yaml(config or DEFAULT_CONFIG)
        self.config = config
        self.model = mujoco.MjModel.from_xml_path(str(paths.resolve(config.model)))
        self.data = mujoco.MjData(self.model)
        n_sub = config.control_dt / self.model.opt.timestep
        if abs(n_sub - round(n_sub)) > 1e-6 or round(n_sub) < 1:
            raise ConfigError(f"control_dt {config.control_dt} s must be a multiple of the physics "
                              f"timestep {self.model.opt.timestep} s")
        self._n_substeps = int(round(n_sub))
        self.arm = SimArm(self.model, self.data, config.camera_width, config.camera_height,
                          config.camera_depth)
        self.arm.connect()
        m = self.model
        self._check_objects()
        self._obj_body = {n: m.body(n).id for n in self.objects}
        self._obj_geom = {n: m.geom(n).id for n in self.objects}
        self._obj_qadr = {n: int(m.joint(n).qposadr[0]) for n in self.objects}
        self._obj_vadr = {n: int(m.joint(n).dofadr[0]) for n in self.objects}
        self._container_body = {n: m.body(n).id for n in so_arm.TABLETOP_CONTAINERS}
        self._goal_body = m.body(so_arm.GOAL_MARKER).id
        self._goal_geom = m.geom(so_arm.GOAL_MARKER).id
        self._pad_geoms = np.array([m.geom(p).id for p in so_arm.FINGER_PADS])
        # Nominal values every reset starts from, so randomisation never accumulates.
        self._nominal = {
            "geom_friction": m.geom_friction.copy(), "body_mass": m.body_mass.copy(),
            "body_inertia": m.body_inertia.copy(), "cam_pos": m.cam_pos.copy(), "cam_quat": m.cam_quat.copy(),
            "light_diffuse": m.light_diffuse.copy(), "light_dir": m.light_dir.copy(),
            "geom_rgba": m.geom_rgba.copy(), "body_pos": m.body_pos.copy(),
        }
        self.rng = np.random.default_rng()
        self.object_colors: dict[str, str] = dict(zip(self.objects, DEFAULT_COLORS, strict=False))
        self.goal_visible = False
        self.reset(seed=None)

    @property
    def objects(self) -> dict[str, TabletopObject]:
        """The graspable objects of this world (name -> shape and size), in the order they are placed."""
        return self.config.objects

    # --- SimWorld --------------------------------------------------------------------------
    @property
    def control_dt(self) -> float:
        return self.config.control_dt

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def robots(self) -> dict[str, Robot]:
        return {self.arm.name: self.arm}

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        m, rnd = self.model, self.config.randomization
        for key, value in self._nominal.items():
            getattr(m, key)[:] = value
        mujoco.mj_resetData(m, self.data)
        self.arm.set_pose(so_arm.HOME_QPOS, gripper=1.0)
        if rnd.on("physics"):
            self._randomize_physics()
        if rnd.on("lighting"):
            self._randomize_lighting()
        if rnd.on("camera_pose"):
            self._randomize_cameras()
        self._assign_colors(rnd.on("colors"))
        self._place_containers(rnd.on("object_poses"))
        self._place_objects(rnd.on("object_poses"))
        self.set_goal_marker(None)
        mujoco.mj_forward(m, self.data)

    def step(self) -> None:
        mujoco.mj_step(self.model, self.data, nstep=self._n_substeps)

    def close(self) -> None:
        self.arm.disconnect()

    # --- ground truth (evaluation and experts only) ------------------------------------------
    def object_position(self, name: str) -> np.ndarray:
        """Centre of an object or container body, m in the world frame."""
        return self.data.xpos[self._body_id(name)].copy()

    def object_quat_wxyz(self, name: str) -> np.ndarray:
        return self.data.xquat[self._body_id(name)].copy()

    def object_yaw(self, name: str) -> float:
        w, x, y, z = self.object_quat_wxyz(name)
        return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))

    def object_velocity(self, name: str) -> np.ndarray:
        """Linear velocity (m/s) of a graspable object."""
        adr = self._obj_vadr[name]
        return self.data.qvel[adr:adr + 3].copy()

    def ee_position(self) -> np.ndarray:
        return self.data.site(so_arm.EE_SITE).xpos.copy()

    def in_gripper_contact(self, name: str) -> bool:
        """True when the object touches either finger pad (it is being held or pushed by the jaws)."""
        pairs = self.data.contact.geom[: self.data.ncon]
        gid = self._obj_geom[name]
        touching = np.concatenate([pairs[pairs[:, 0] == gid, 1], pairs[pairs[:, 1] == gid, 0]])
        return bool(np.isin(touching, self._pad_geoms).any())

    def inside_container(self, name: str, container: str) -> bool:
        """Object centre within the container's inner footprint and below its rim."""
        label, half, height = so_arm.TABLETOP_CONTAINERS[container]
        box = self._gt(container, label, "", np.array([2 * half, 2 * half, height]))
        return inside_container(self.object_position(name), box)

    def container_clearance(self, xy: np.ndarray) -> float:
        """Horizontal distance (m) from ``xy`` to the outside of the nearest container's walls
        (negative inside one): how much room a gripper or object has there."""
        out = np.inf
        for name, (_, half, _) in so_arm.TABLETOP_CONTAINERS.items():
            d = np.asarray(xy[:2]) - self.object_position(name)[:2]
            outer = half + 0.008  # wall thickness
            if name == "bowl":
                gap = float(np.linalg.norm(d)) - outer
            else:
                excess = np.abs(d) - outer
                gap = float(np.linalg.norm(np.maximum(excess, 0.0))) + min(float(np.max(excess)), 0.0)
            out = min(out, gap)
        return float(out)

    def set_goal_marker(self, xy: np.ndarray | None) -> None:
        """Show the flat push-goal marker at ``xy`` (m), or hide it (None)."""
        self.goal_visible = xy is not None
        if xy is None:
            self.model.body_pos[self._goal_body] = (0.0, 0.0, -0.5)  # under the table, out of view
        else:
            self.model.body_pos[self._goal_body] = (float(xy[0]), float(xy[1]), 0.0)
        mujoco.mj_kinematics(self.model, self.data)

    @property
    def goal_position(self) -> np.ndarray:
        return self.model.body_pos[self._goal_body].copy()

    def ground_truth_objects(self) -> list[GroundTruthObject]:
        out = []
        for name, obj in self.objects.items():
            out.append(self._gt(name, obj.shape, self.object_colors[name], np.array(obj.size)))
        for name, (label, half, height) in so_arm.TABLETOP_CONTAINERS.items():
            color = "white" if name == "bowl" else "blue"
            out.append(self._gt(name, label, color, np.array([2 * half, 2 * half, height])))
        return out

    # --- internals -------------------------------------------------------------------------
    def _check_objects(self) -> None:
        """Every configured object is in the MJCF (body, freejoint, geom of its name) with the
        configured extents: the config and the model file describe the same objects twice."""
        m = self.model
        for name, obj in self.objects.items():
            try:
                geom = m.geom(name).id
                m.body(name)
                m.joint(name)
            except KeyError as e:
                raise ConfigError(f"{self.config.model} has no object '{name}' (a body, freejoint and geom "
                                  "of that name), which the config's objects list") from e
            extents = 2.0 * m.geom_aabb[geom, 3:]
            if not np.allclose(extents, obj.size, atol=1e-6):
                raise ConfigError(f"object '{name}': the config's size {list(obj.size)} m differs from the "
                                  f"extents of its geom in {self.config.model}, {extents.round(4).tolist()}")

    def _body_id(self, name: str) -> int:
        if name in self._obj_body:
            return self._obj_body[name]
        if name in self._container_body:
            return self._container_body[name]
        known = sorted([*self._obj_body, *self._container_body])
        raise KeyError(f"unknown object '{name}'; the tabletop has {known}")

    def _gt(self, name: str, label: str, color: str, size: np.ndarray) -> GroundTruthObject:
        w, x, y, z = self.object_quat_wxyz(name)
        return GroundTruthObject(name=name, label=label, color=color, position=self.object_position(name),
                                 quaternion_xyzw=np.array([x, y, z, w]), size=size)

    def _randomize_physics(self) -> None:
        lo, hi = self.config.randomization.friction_scale
        mlo, mhi = self.config.randomization.mass_scale
        for name in self.objects:
            self.model.geom_friction[self._obj_geom[name], 0] *= self.rng.uniform(lo, hi)
            scale = self.rng.uniform(mlo, mhi)
            self.model.body_mass[self._obj_body[name]] *= scale
            self.model.body_inertia[self._obj_body[name]] *= scale

    def _randomize_lighting(self) -> None:
        rnd = self.config.randomization
        for i in range(self.model.nlight):
            self.model.light_diffuse[i] = self.rng.uniform(*rnd.light_diffuse) * np.ones(3)
            d = self.model.light_dir[i].copy()
            d[:2] += self.rng.uniform(-rnd.light_dir_jitter, rnd.light_dir_jitter, size=2)
            self.model.light_dir[i] = d / np.linalg.norm(d)

    def _randomize_cameras(self) -> None:
        rnd = self.config.randomization
        for i in range(self.model.ncam):
            self.model.cam_pos[i] += self.rng.uniform(-rnd.camera_pos_jitter, rnd.camera_pos_jitter, size=3)
            axis = self.rng.normal(size=3)
            angle = self.rng.uniform(-rnd.camera_rot_jitter, rnd.camera_rot_jitter)
            dq = np.empty(4)
            mujoco.mju_axisAngle2Quat(dq, axis / np.linalg.norm(axis), angle)
            q = np.empty(4)
            mujoco.mju_mulQuat(q, self.model.cam_quat[i].copy(), dq)
            self.model.cam_quat[i] = q

    def _assign_colors(self, randomize: bool) -> None:
        names = list(self.objects)
        if randomize:
            colors = list(self.rng.choice(list(COLORS), size=len(names), replace=False))
        else:
            colors = list(DEFAULT_COLORS[:len(names)])
        self.object_colors = {n: str(c) for n, c in zip(names, colors, strict=True)}
        for n, c in self.object_colors.items():
            self.model.geom_rgba[self._obj_geom[n], :3] = COLORS[c].rgb

    def _place_containers(self, randomize: bool) -> None:
        ws = self.config.workspace
        for sign, name in ((1.0, "bowl"), (-1.0, "bin")):
            if randomize:
                r, az = self.rng.uniform(*ws.container_radius), self.rng.uniform(*ws.container_azimuth)
            else:
                r, az = float(np.mean(ws.container_radius)), float(np.mean(ws.container_azimuth))
            self.model.body_pos[self._container_body[name]] = (r * np.cos(az), sign * r * np.sin(az), 0.0)

    def _place_objects(self, randomize: bool) -> None:
        ws = self.config.workspace
        names = list(self.objects)
        if randomize:
            layout = self._sample_layout(len(names))
            yaws = self.rng.uniform(-np.pi, np.pi, size=len(names))
        else:
            r = float(np.mean(ws.object_radius))
            azs = np.linspace(*ws.object_azimuth, len(names)) * 0.8
            layout, yaws = [np.array([r * np.cos(a), r * np.sin(a)]) for a in azs], np.zeros(len(names))
        for name, xy, yaw in zip(names, layout, yaws, strict=True):
            height = self.objects[name].size[2]
            adr = self._obj_qadr[name]
            self.data.qpos[adr:adr + 3] = (xy[0], xy[1], height / 2 + 1e-4)
            self.data.qpos[adr + 3:adr + 7] = yaw_quat_wxyz(yaw)

    def _sample_layout(self, n: int) -> list[np.ndarray]:
        """``n`` object positions at least ``min_separation`` apart and clear of the containers
        (rejection sampling, restarting the whole layout when one object finds no room)."""
        ws = self.config.workspace
        containers = [self.model.body_pos[b][:2] for b in self._container_body.values()]
        for _ in range(200):
            placed: list[np.ndarray] = []
            for _ in range(50 * n):
                r, az = self.rng.uniform(*ws.object_radius), self.rng.uniform(*ws.object_azimuth)
                xy = np.array([r * np.cos(az), r * np.sin(az)])
                if all(np.linalg.norm(xy - p) >= ws.min_separation for p in placed) and all(
                        np.linalg.norm(xy - c) >= 0.1 for c in containers):
                    placed.append(xy)
                    if len(placed) == n:
                        return placed
        raise ConfigError("cannot place the tabletop objects: workspace too small for min_separation; "
                          "widen workspace.object_radius/object_azimuth or lower min_separation")
