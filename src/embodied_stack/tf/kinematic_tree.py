"""The robot's frames from its MJCF model: a robot_state_publisher equivalent (ROS-free).

Why MJCF and not URDF: our robots' kinematic model *is* the MuJoCo file the simulator runs
(``sim/robots/<robot>/<robot>.xml``), so the frames on /tf and the simulated robot cannot drift
apart. The file is compiled once with MuJoCo (defaults, ``xyaxes`` and the like resolved), then
every transform is plain math on the compiled constants; MuJoCo is never stepped.

Frames (REP-103/105):
- one frame per body, named like the body; the root body (the robot's only top-level body
  unless ``root_body`` says otherwise) is renamed ``base_frame`` (default ``base_link``). Its own
  joints (a free joint on a legged robot) and pose in the world are *not* part of the tree: the
  base pose is odometry's job (``odom -> base_link``);
- a body with hinge/slide joints gives a *moving* transform parent -> body
  (:meth:`KinematicTree.transforms`); a body without joints a *static* one;
- each ``<camera>`` fixed to a body gives ``<name>_optical_frame`` (z forward, x right, y down),
  the ``frame_id`` the simulated cameras stamp on their images; the pose is the one
  :func:`embodied_stack.sim.rendering.camera_optical_pose` gives the renderer, so the two agree;
- sites listed in ``site_frames`` (e.g. ``{"imu": "imu_link", "laser": "laser"}``) give sensor frames.
Static ones come from :meth:`KinematicTree.static_transforms`.

Joint values are MuJoCo's ``qpos`` (rad for hinges, m for slides), measured from the joint's
``ref`` like MuJoCo does; a rotation about the joint axis through the joint anchor, in the order
the joints appear in the body (what ``mj_kinematics`` computes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from embodied_stack.sim.rendering import camera_optical_pose
from embodied_stack.tf.transform import Transform

_HINGE = int(mujoco.mjtJoint.mjJNT_HINGE)
_SLIDE = int(mujoco.mjtJoint.mjJNT_SLIDE)
_FREE = int(mujoco.mjtJoint.mjJNT_FREE)
_CAM_FIXED = int(mujoco.mjtCamLight.mjCAMLIGHT_FIXED)


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix of ``angle`` (rad) about the unit vector ``axis`` (Rodrigues' formula)."""
    x, y, z = axis
    c, s = np.cos(angle), np.sin(angle)
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def _pose_matrix(pos: np.ndarray, quat_wxyz: np.ndarray) -> np.ndarray:
    """4x4 from a MuJoCo position and (w, x, y, z) quaternion."""
    rot = np.empty(9)
    mujoco.mju_quat2Mat(rot, np.asarray(quat_wxyz, dtype=np.float64))
    m = np.eye(4)
    m[:3, :3] = rot.reshape(3, 3)
    m[:3, 3] = pos
    return m


@dataclass(frozen=True)
class _Joint:
    name: str
    kind: int  # _HINGE or _SLIDE
    axis: np.ndarray  # unit, body frame
    anchor: np.ndarray  # m, body frame
    ref: float  # qpos0: the value at which the body sits at its MJCF pose


@dataclass(frozen=True)
class _Link:
    parent: str
    child: str
    offset: np.ndarray  # 4x4 pose of the body in its parent at zero joint motion
    joints: tuple[_Joint, ...]


class KinematicTree:
    """Frames and transforms of one robot from its MuJoCo model.

    Args:
        model: the robot's model compiled on its own (``MjModel.from_xml_path(robot.xml)``), not a
            world: world bodies would become frames of the robot.
        base_frame: TF name of the root body (REP-105 ``base_link``).
        root_body: the body that is the robot's base; default: the model's only top-level body.
        site_frames: site name -> frame name for sensor sites to publish (static, child of the
            site's body), e.g. ``{"imu": "imu_link", "laser": "laser"}``.

    Raises ValueError naming the body, joint or site when the model cannot be a TF tree
    (unnamed bodies, ball or free joints below the root, duplicate frame names).
    """

    def __init__(self, model: mujoco.MjModel, base_frame: str = "base_link", root_body: str | None = None,
                 site_frames: Mapping[str, str] | None = None) -> None:
        if not base_frame:
            raise ValueError("base_frame must be a non-empty frame name, e.g. 'base_link'")
        self.model = model
        self.base_frame = base_frame
        root = self._root_id(model, root_body)
        self.root_body = model.body(root).name
        names = {root: base_frame}
        bodies = [b for b in range(1, model.nbody) if self._descends(model, b, root) and b != root]
        for b in bodies:
            name = model.body(b).name
            if not name:
                parent = model.body(model.body_parentid[b]).name
                raise ValueError(f"body #{b} (child of '{parent}') has no name; TF needs one per frame: "
                                 "add name=\"...\" to it in the MJCF")
            names[b] = name
        self._links: list[_Link] = []
        for b in bodies:
            self._links.append(_Link(parent=names[int(model.body_parentid[b])], child=names[b],
                                     offset=_pose_matrix(model.body_pos[b], model.body_quat[b]),
                                     joints=self._joints_of(model, b)))
        self._static: list[Transform] = [Transform.from_matrix(link.parent, link.child, link.offset)
                                         for link in self._links if not link.joints]
        self._moving = [link for link in self._links if link.joints]
        self._static += self._camera_frames(model, names)
        self._static += self._site_frames(model, names, dict(site_frames or {}))
        frames = [base_frame] + [t.child for t in self._static] + [link.child for link in self._moving]
        dup = sorted({f for f in frames if frames.count(f) > 1})
        if dup:
            raise ValueError(f"frame name(s) {dup} used twice in the tree of '{self.root_body}': rename the "
                             "body, site frame or camera (base_frame must not equal another body's name)")
        self.frames: tuple[str, ...] = tuple(frames)
        #: joints that move links, in model order: the names /joint_states must carry
        self.joint_names: tuple[str, ...] = tuple(j.name for link in self._moving for j in link.joints)

    @classmethod
    def from_mjcf(cls, path: str | Path, **kwargs: object) -> KinematicTree:
        """Compile the robot file ``path`` on its own and build the tree (kwargs as the constructor)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"robot model {path} not found; give the robot's MJCF, e.g. "
                                    "sim/robots/so_arm/so_arm.xml")
        return cls(mujoco.MjModel.from_xml_path(str(path)), **kwargs)  # type: ignore[arg-type]

    # --- public API -----------------------------------------------------------------------------
    def static_transforms(self) -> list[Transform]:
        """Fixed transforms (bodies without joints, camera optical frames, sensor sites), for /tf_static."""
        return list(self._static)

    def transforms(self, joint_positions: Mapping[str, float], stamp: float | None = None,
                   strict: bool = False) -> list[Transform]:
        """Moving transforms (parent -> body) for the joint values given (rad or m), for /tf.

        Like robot_state_publisher, a link whose joint is missing from ``joint_positions`` is left
        out and names that are not joints of the tree (a ``gripper`` opening, another robot's
        joints) are ignored; ``strict=True`` raises on either instead, naming them.
        """
        if strict:
            missing = [j for j in self.joint_names if j not in joint_positions]
            unknown = [j for j in joint_positions if j not in self.joint_names]
            if missing or unknown:
                raise ValueError(f"joint positions: missing {missing}, unknown {unknown}; the tree's joints "
                                 f"are {list(self.joint_names)}")
        out = []
        for link in self._moving:
            if all(j.name in joint_positions for j in link.joints):
                m = self._link_matrix(link, joint_positions)
                out.append(Transform.from_matrix(link.parent, link.child, m, stamp))
        return out

    def forward(self, joint_positions: Mapping[str, float]) -> dict[str, Transform]:
        """Pose of every frame in ``base_frame`` (all joints required): forward kinematics for
        callers that want a frame's pose directly (and the tests against ``mj_kinematics``)."""
        poses = {self.base_frame: np.eye(4)}
        pending = self.static_transforms() + self.transforms(joint_positions, strict=True)
        while pending:  # parents before children; the tree is small
            ready = [t for t in pending if t.parent in poses]
            if not ready:
                orphans = [t.child for t in pending]
                raise RuntimeError(f"frames {orphans} are not connected to {self.base_frame}")
            for t in ready:
                poses[t.child] = poses[t.parent] @ t.matrix()
            pending = [t for t in pending if t.child not in poses]
        return {f: Transform.from_matrix(self.base_frame, f, m)
                for f, m in poses.items() if f != self.base_frame}

    # --- construction helpers -------------------------------------------------------------------
    @staticmethod
    def _root_id(model: mujoco.MjModel, root_body: str | None) -> int:
        top = [b for b in range(1, model.nbody) if model.body_parentid[b] == 0]
        if root_body is not None:
            try:
                return int(model.body(root_body).id)
            except KeyError:
                raise ValueError(f"root_body '{root_body}' is not a body of the model; top-level bodies: "
                                 f"{[model.body(b).name for b in top]}") from None
        if len(top) != 1:
            tops = [model.body(b).name for b in top]
            raise ValueError(f"the model has {len(top)} top-level bodies {tops}; load the robot file on its "
                             "own (not a world) or pass root_body=")
        return top[0]

    @staticmethod
    def _descends(model: mujoco.MjModel, body: int, root: int) -> bool:
        while body > 0:
            if body == root:
                return True
            body = int(model.body_parentid[body])
        return False

    @staticmethod
    def _joints_of(model: mujoco.MjModel, body: int) -> tuple[_Joint, ...]:
        joints = []
        for j in range(model.body_jntadr[body], model.body_jntadr[body] + model.body_jntnum[body]):
            kind = int(model.jnt_type[j])
            name = model.joint(j).name
            if kind not in (_HINGE, _SLIDE):
                what = "free" if kind == _FREE else "ball"
                raise ValueError(f"joint '{name}' of body '{model.body(body).name}' is a {what} joint; only "
                                 "hinge and slide joints can be driven from /joint_states (a free joint "
                                 "belongs on the root body, the robot's base)")
            if not name:
                raise ValueError(f"a joint of body '{model.body(body).name}' has no name; /joint_states "
                                 "addresses joints by name: add name=\"...\" to it in the MJCF")
            ref = float(model.qpos0[model.jnt_qposadr[j]])
            joints.append(_Joint(name=name, kind=kind, axis=model.jnt_axis[j].copy(),
                                 anchor=model.jnt_pos[j].copy(), ref=ref))
        return tuple(joints)

    @staticmethod
    def _link_matrix(link: _Link, joint_positions: Mapping[str, float]) -> np.ndarray:
        m = link.offset.copy()
        for j in link.joints:
            q = float(joint_positions[j.name]) - j.ref
            if not np.isfinite(q):
                raise ValueError(f"joint '{j.name}' position {joint_positions[j.name]} is not finite")
            local = np.eye(4)
            if j.kind == _HINGE:  # rotate about the axis through the anchor
                rot = axis_angle_matrix(j.axis, q)
                local[:3, :3] = rot
                local[:3, 3] = j.anchor - rot @ j.anchor
            else:
                local[:3, 3] = j.axis * q
            m = m @ local
        return m

    def _camera_frames(self, model: mujoco.MjModel, names: dict[int, str]) -> list[Transform]:
        """``<camera>_optical_frame`` under each camera's body, computed with the renderer's own
        convention (camera_optical_pose) at the model's reference pose, relative to the body."""
        cams = [c for c in range(model.ncam) if int(model.cam_bodyid[c]) in names]
        if not cams:
            return []
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        out = []
        for c in cams:
            name = model.camera(c).name
            if not name:
                raise ValueError(f"camera #{c} on body '{names[int(model.cam_bodyid[c])]}' has no name; its "
                                 "frame would be '<name>_optical_frame': add name=\"...\" to it in the MJCF")
            if int(model.cam_mode[c]) != _CAM_FIXED:
                continue  # a tracking camera moves with something else: not a fixed extrinsic of the robot
            body = int(model.cam_bodyid[c])
            rot, pos = camera_optical_pose(model, data, name)
            body_world = _pose_matrix(data.xpos[body], data.xquat[body])
            cam_world = np.eye(4)
            cam_world[:3, :3], cam_world[:3, 3] = rot, pos
            out.append(Transform.from_matrix(names[body], f"{name}_optical_frame",
                                             np.linalg.inv(body_world) @ cam_world))
        return out

    @staticmethod
    def _site_frames(model: mujoco.MjModel, names: dict[int, str],
                     site_frames: dict[str, str]) -> list[Transform]:
        out = []
        for site, frame in site_frames.items():
            try:
                sid = int(model.site(site).id)
            except KeyError:
                known = [model.site(s).name for s in range(model.nsite)]
                raise ValueError(f"site_frames names site '{site}', which the model does not have; sites: "
                                 f"{known}") from None
            body = int(model.site_bodyid[sid])
            if body not in names:
                raise ValueError(f"site '{site}' is on body '{model.body(body).name}', outside the robot's "
                                 "tree")
            out.append(Transform.from_matrix(names[body], frame,
                                             _pose_matrix(model.site_pos[sid], model.site_quat[sid])))
        return out
