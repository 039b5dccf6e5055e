"""The indoor world: rooms, doorways, pedestrians and a Go2-class quadruped as a velocity-driven base.

What the stack sees is what a real Go2 in sport mode gives: ``cmd_vel`` in, odometry (base pose and
twist), IMU, a 2D LiDAR scan and a forward RGB-D camera out, all through :class:`SimQuadrupedBase`, a
:class:`~embodied_stack.hardware.Robot`. Pedestrian ground truth is read separately through
:meth:`IndoorWorld.ground_truth_people` for evaluation only.

Why a kinematic-ish base rather than the legged model: navigation and perception need a robot that moves
like sport mode, quickly and exactly; learning to walk is the job of ``QuadrupedLocomotion-v0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from embodied_stack import paths
from embodied_stack.config import ConfigError, from_dict, load_yaml
from embodied_stack.hardware import (
    BaseVelocity,
    CameraFrame,
    CommandRejected,
    CommandWatchdog,
    ImuReading,
    LaserScanReading,
    Robot,
    RobotState,
)
from embodied_stack.navigation.crowd import CrowdModelConfig, SocialForceConfig
from embodied_stack.navigation.indoor_crowd import RoutedCrowd
from embodied_stack.sim import quadruped as q
from embodied_stack.sim.lidar import PlanarLidar
from embodied_stack.sim.pedestrians import WaypointGraph
from embodied_stack.sim.world import GroundTruthPerson, SimWorld

DEFAULT_CONFIG = "config/sim/indoor.yaml"
BASE_BODY = "base_link"
BASE_JOINTS = ("base_x", "base_y", "base_yaw")
BASE_ACTUATORS = ("base_vx", "base_vy", "base_wz")
PEDESTRIAN_BODY = "pedestrian_{}"
OBSTACLE_PREFIXES = ("wall_", "furniture_")


@dataclass
class RobotConfig:
    start_pose: list[float] = field(default_factory=lambda: [-1.5, -1.0, 0.0])  # x, y (m), yaw (rad)
    start_jitter: list[float] = field(default_factory=lambda: [0.3, 0.3, 0.5])
    description: str = "go2"  # robot description (config/robots/): the base limits come from there
    command_timeout: float = 0.5  # s of sim time: the simulated device's own stop (like sport mode)


@dataclass
class LidarConfig:
    num_beams: int = 720
    rate: float = 10.0  # Hz
    range_min: float = 0.1
    range_max: float = 12.0


@dataclass
class CameraConfig:
    width: int = 320
    height: int = 240
    depth: bool = True


@dataclass
class ScriptedPedestrianConfig:
    """A test hook (``pedestrians.scripted``): a person who ignores every model and steps in front of the
    robot.

    Why: tests and demos need a person at a known place at a known moment ("someone steps in front of the
    robot"), which the crowd's people, going where their model takes them, never guarantee. The person
    stands at ``start`` (x, y, m) until the robot's base comes within ``trigger[2]`` m of ``trigger[:2]``,
    then walks ``path`` (waypoints, m) at ``speed`` (m/s), stands at its end for ``hold_s`` s and walks the
    same way back to ``start``, once. The crowd's people do not see them; the robot's sensors do.
    """

    start: list[float] = field(default_factory=lambda: [0.0, 0.0])
    trigger: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.5])
    path: list[list[float]] = field(default_factory=list)
    speed: float = 1.5
    hold_s: float = 3.0


class ScriptedPedestrian:
    """The person of a :class:`ScriptedPedestrianConfig` (same ``position``/``velocity`` as the crowd's)."""

    def __init__(self, config: ScriptedPedestrianConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self.position = np.asarray(self.config.start, dtype=np.float64)[:2].copy()
        self.velocity = np.zeros(2)
        self.phase, self._route, self._hold = "waiting", [], 0.0

    def step(self, dt: float, robot_xy: np.ndarray) -> None:
        c = self.config
        if self.phase == "waiting" and np.linalg.norm(robot_xy - np.asarray(c.trigger[:2])) < c.trigger[2]:
            self.phase, self._route = "out", [np.asarray(p, dtype=np.float64) for p in c.path]
        elif self.phase == "hold":
            self._hold -= dt
            if self._hold <= 0:
                back = [np.asarray(p, dtype=np.float64) for p in c.path[-2::-1]]
                self.phase, self._route = "back", back + [np.asarray(c.start[:2], dtype=np.float64)]
        self.velocity = np.zeros(2)
        if not self._route:
            return
        offset = self._route[0] - self.position
        distance = float(np.linalg.norm(offset))
        step = c.speed * dt
        if distance <= step:
            self.position = self._route.pop(0).copy()
            if not self._route:
                self.phase, self._hold = ("hold", c.hold_s) if self.phase == "out" else ("done", 0.0)
        else:
            self.position = self.position + offset / distance * step
            self.velocity = offset / distance * c.speed


@dataclass
class PedestrianConfig:
    count: int = 4
    speed: list[float] = field(default_factory=lambda: [0.7, 1.3])  # m/s
    nodes: dict[str, list[float]] = field(default_factory=dict)
    edges: list[list[str]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    scripted: list[ScriptedPedestrianConfig] = field(default_factory=list)  # test hook, see its class


@dataclass
class RandomizeConfig:
    robot_start: bool = True
    pedestrians: bool = True


@dataclass
class IndoorConfig:
    model: str = "sim/worlds/indoor.xml"
    control_dt: float = 0.02
    seed: int = 0
    robot: RobotConfig = field(default_factory=RobotConfig)
    lidar: LidarConfig = field(default_factory=LidarConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    pedestrians: PedestrianConfig = field(default_factory=PedestrianConfig)
    randomize: RandomizeConfig = field(default_factory=RandomizeConfig)

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_CONFIG, **overrides: Any) -> IndoorConfig:
        """Load ``path``; ``overrides`` replace top-level sections or values (e.g. ``pedestrians={...}``)."""
        data = dict(load_yaml(path) or {})
        data.update(overrides)
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "indoor config") -> IndoorConfig:
        sections = {"robot": RobotConfig, "lidar": LidarConfig, "camera": CameraConfig,
                    "pedestrians": PedestrianConfig, "randomize": RandomizeConfig}
        data = dict(data)
        for key, section in sections.items():
            if isinstance(data.get(key), dict):
                data[key] = from_dict(section, data[key], source=f"{source}: {key}")
        if isinstance(data.get("pedestrians"), PedestrianConfig):
            people = data["pedestrians"]
            people.scripted = [
                from_dict(ScriptedPedestrianConfig, s, source=f"{source}: pedestrians.scripted[{i}]")
                if isinstance(s, dict) else s for i, s in enumerate(people.scripted)]
        config = from_dict(cls, data, source=source)
        config.validate(source)
        return config

    def validate(self, source: str) -> None:
        if not self.control_dt > 0:
            raise ConfigError(f"{source}: control_dt={self.control_dt} must be > 0 s")
        total = self.pedestrians.count + len(self.pedestrians.scripted)
        if not 0 <= self.pedestrians.count <= total <= 8:
            raise ConfigError(f"{source}: pedestrians.count={self.pedestrians.count} plus "
                              f"{len(self.pedestrians.scripted)} scripted must be in 0..8 "
                              "(the MJCF has 8 pedestrian bodies)")
        for i, sp in enumerate(self.pedestrians.scripted):
            shape_ok = len(sp.start) == 2 and len(sp.trigger) == 3 and bool(sp.path) \
                and all(len(w) == 2 for w in sp.path)
            if not (shape_ok and sp.speed > 0 and sp.hold_s >= 0):
                raise ConfigError(f"{source}: pedestrians.scripted[{i}] needs start [x, y], trigger [x, y, "
                                  "radius], path [[x, y], ...] (not empty), speed > 0 m/s and hold_s >= 0 s")
        if not self.lidar.rate > 0:
            raise ConfigError(f"{source}: lidar.rate={self.lidar.rate} must be > 0 Hz")


def _quat_wxyz_to_xyzw(quat: np.ndarray) -> np.ndarray:
    return np.array([quat[1], quat[2], quat[3], quat[0]])


class SimQuadrupedBase(Robot):
    """The simulated quadruped in sport mode: body velocity in; pose, twist, IMU, scan, RGB-D out.

    Commands hold until replaced; a rejected command (NaN/inf) or ``command_timeout`` seconds of sim time
    without a command stops the base, so it never moves on invalid or stale input.
    """

    capabilities = frozenset({"base"})

    def __init__(self, world: IndoorWorld, name: str = "quadruped") -> None:
        from embodied_stack.robots.description import load_description

        rc = world.config.robot
        limits = load_description(rc.description).base
        if limits is None:
            raise ValueError(f"robot description '{rc.description}' has no base limits")
        super().__init__(name, base_limits=limits)
        self._world = world
        self.command = BaseVelocity()
        self.watchdog = CommandWatchdog(rc.command_timeout, self._stop, clock=lambda: world.time)
        self._rig = None

    @property
    def camera_names(self) -> list[str]:
        return [q.FRONT_CAMERA]

    @property
    def has_lidar(self) -> bool:
        return True

    def send_base_velocity(self, command: BaseVelocity) -> BaseVelocity:
        try:
            return super().send_base_velocity(command)
        except CommandRejected:
            self._stop()
            raise

    def _connect(self) -> None:
        self.command = BaseVelocity()

    def _disconnect(self) -> None:
        if self._rig is not None:
            self._rig.close()
            self._rig = None

    def _write_base_velocity(self, command: BaseVelocity) -> None:
        self.command = command
        self.watchdog.feed()

    def _stop(self) -> None:
        self.command = BaseVelocity()

    def _read_state(self) -> RobotState:
        return self._world.base_state()

    def _read_scan(self) -> LaserScanReading | None:
        return self._world.latest_scan

    def _read_cameras(self) -> dict[str, CameraFrame]:
        if self._rig is None:
            from embodied_stack.sim.rendering import CameraRig

            cc = self._world.config.camera
            self._rig = CameraRig(self._world.model, [q.FRONT_CAMERA], cc.width, cc.height, depth=cc.depth)
        return self._rig.render(self._world.data, stamp=self._world.time)


class IndoorWorld(SimWorld):
    """Three rooms with doorways, ``config.pedestrians.count`` walkers and one :class:`SimQuadrupedBase`.

    Deterministic: ``reset(seed)`` seeds the robot start jitter and the crowd; the same seed and the
    same commands give the same trajectories.
    """

    name = "indoor"

    def __init__(self, config: IndoorConfig | None = None) -> None:
        self.config = config or IndoorConfig.from_yaml()
        self.config.validate("IndoorWorld config")
        self.model = mujoco.MjModel.from_xml_path(str(paths.resolve(self.config.model)))
        self.data = mujoco.MjData(self.model)
        m = self.model
        self._substeps = max(1, round(self.config.control_dt / m.opt.timestep))
        self._qadr = np.array([m.jnt_qposadr[m.joint(j).id] for j in BASE_JOINTS])
        self._dadr = np.array([m.jnt_dofadr[m.joint(j).id] for j in BASE_JOINTS])
        self._act = np.array([m.actuator(a).id for a in BASE_ACTUATORS])
        self._base = m.body(BASE_BODY).id
        self._imu = m.site(q.IMU_SITE).id
        self._body_start = m.body_pos[self._base].copy()
        self._sensor = {n: m.sensor_adr[m.sensor(n).id] for n in
                        (q.SENSOR_QUAT, q.SENSOR_GYRO, q.SENSOR_ACCEL)}
        self._ped_mocap = [m.body_mocapid[m.body(PEDESTRIAN_BODY.format(i)).id] for i in range(8)]
        pc = self.config.pedestrians
        # the SocialNav env's pedestrian model, walking this world's waypoint graph (issue #14)
        graph = WaypointGraph(pc.nodes, pc.edges, pc.places)
        # people repel each other as strongly as the indoor world's earlier model did (A = 5 m/s^2): at the
        # crowd env's 2.1 they came within 0.2 m of each other in doorways (tests/sim/test_indoor.py)
        crowd_config = CrowdModelConfig(model="social_force",
                                        social_force=SocialForceConfig(agent_strength=5.0))
        self.crowd = RoutedCrowd(pc.count, graph, self.obstacle_boxes(),
                                 speed_range=(pc.speed[0], pc.speed[1]), model="social_force",
                                 config=crowd_config)
        self.scripted = [ScriptedPedestrian(s) for s in pc.scripted]
        lc = self.config.lidar
        self.lidar = PlanarLidar(m, q.LASER_SITE, lc.num_beams, lc.range_min, lc.range_max,
                                 exclude_body=BASE_BODY)
        self._scan_period = 1.0 / lc.rate
        self.latest_scan: LaserScanReading | None = None
        self._next_scan = 0.0
        self.robot = SimQuadrupedBase(self)
        self.robot.connect()
        self.reset(self.config.seed)

    # --- SimWorld ------------------------------------------------------------------------
    @property
    def control_dt(self) -> float:
        return self._substeps * self.model.opt.timestep

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def robots(self) -> dict[str, Robot]:
        return {self.robot.name: self.robot}

    def reset(self, seed: int | None = None) -> None:
        rng = np.random.default_rng(self.config.seed if seed is None else seed)
        mujoco.mj_resetData(self.model, self.data)
        rc = self.config.robot
        pose = np.asarray(rc.start_pose, dtype=np.float64)
        if self.config.randomize.robot_start:
            jitter = np.asarray(rc.start_jitter, dtype=np.float64)
            pose = pose + rng.uniform(-jitter, jitter)
        # joints are relative to the body's MJCF position
        self.data.qpos[self._qadr] = [pose[0] - self._body_start[0], pose[1] - self._body_start[1], pose[2]]
        crowd_rng = rng if self.config.randomize.pedestrians else np.random.default_rng(self.config.seed)
        self.crowd.reset(crowd_rng)
        for person in self.scripted:
            person.reset()
        self._place_pedestrians()
        self.robot._stop()
        mujoco.mj_forward(self.model, self.data)
        self.latest_scan = self.lidar.scan(self.data)
        self._next_scan = self._scan_period

    def step(self) -> None:
        """Advance ``control_dt``: watchdog, pedestrians, base velocity servo, physics, LiDAR at its rate."""
        self.robot.watchdog.check()
        robot_xy = self.data.qpos[self._qadr[:2]] + self._body_start[:2]
        self.crowd.step(self.control_dt, robot_xy=robot_xy)
        for person in self.scripted:
            person.step(self.control_dt, robot_xy)
        self._place_pedestrians()
        cmd = self.robot.command
        for _ in range(self._substeps):
            yaw = self.data.qpos[self._qadr[2]]
            c, s = math.cos(yaw), math.sin(yaw)
            self.data.ctrl[self._act] = [c * cmd.vx - s * cmd.vy, s * cmd.vx + c * cmd.vy, cmd.wz]
            mujoco.mj_step(self.model, self.data)
        if self.time >= self._next_scan - 1e-9:
            self.latest_scan = self.lidar.scan(self.data)
            self._next_scan += self._scan_period

    def ground_truth_people(self) -> list[GroundTruthPerson]:
        """The crowd's people (ids 0..count-1), then the scripted ones."""
        position, velocity = self._people()
        return [GroundTruthPerson(id=i, position=position[i].copy(), velocity=velocity[i].copy())
                for i in range(len(position))]

    def _people(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.scripted:
            return self.crowd.position, self.crowd.velocity
        return (np.vstack([self.crowd.position.reshape(-1, 2)] + [s.position[None] for s in self.scripted]),
                np.vstack([self.crowd.velocity.reshape(-1, 2)] + [s.velocity[None] for s in self.scripted]))

    def close(self) -> None:
        self.robot.disconnect()

    # --- state ---------------------------------------------------------------------------
    def base_pose_2d(self) -> np.ndarray:
        """x, y (m), yaw (rad) of base_link in odom."""
        qpos = self.data.qpos[self._qadr]
        return np.array([qpos[0] + self._body_start[0], qpos[1] + self._body_start[1], qpos[2]])

    def base_state(self) -> RobotState:
        d = self.data
        pos = d.xpos[self._base]
        quat = _quat_wxyz_to_xyzw(d.xquat[self._base])
        yaw = d.qpos[self._qadr[2]]
        vworld = d.qvel[self._dadr]
        c, s = math.cos(yaw), math.sin(yaw)
        twist = np.array([c * vworld[0] + s * vworld[1], -s * vworld[0] + c * vworld[1], 0.0,
                          0.0, 0.0, vworld[2]])
        sd, adr = d.sensordata, self._sensor
        imu = ImuReading(
            orientation_xyzw=_quat_wxyz_to_xyzw(sd[adr[q.SENSOR_QUAT]:adr[q.SENSOR_QUAT] + 4]),
            angular_velocity=sd[adr[q.SENSOR_GYRO]:adr[q.SENSOR_GYRO] + 3].copy(),
            linear_acceleration=sd[adr[q.SENSOR_ACCEL]:adr[q.SENSOR_ACCEL] + 3].copy(),
        )
        return RobotState(stamp=self.time, base_pose=np.concatenate([pos, quat]), base_twist=twist, imu=imu)

    def obstacle_boxes(self) -> np.ndarray:
        """Footprints (xmin, ymin, xmax, ymax) of the axis-aligned wall and furniture boxes."""
        m = self.model
        boxes = []
        for g in range(m.ngeom):
            name = m.geom(g).name
            if name.startswith(OBSTACLE_PREFIXES) and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX:
                c, h = m.geom_pos[g], m.geom_size[g]
                boxes.append([c[0] - h[0], c[1] - h[1], c[0] + h[0], c[1] + h[1]])
        return np.array(boxes).reshape(-1, 4)

    def _place_pedestrians(self) -> None:
        position, velocity = self._people()
        for i, mocap in enumerate(self._ped_mocap):
            if i < len(position):
                self.data.mocap_pos[mocap] = [*position[i], 0.0]
                v = velocity[i]
                if np.linalg.norm(v) > 0.05:
                    yaw = math.atan2(v[1], v[0])
                    self.data.mocap_quat[mocap] = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
            else:
                self.data.mocap_pos[mocap] = [0.0, 0.0, -5.0]
