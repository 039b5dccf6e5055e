"""Forward and inverse kinematics of the SO-arm, numerically through MuJoCo.

Why numeric (damped least squares on ``mj_jacSite``) instead of a closed form: the
same code then serves any arm model we load (the bare arm, the tabletop world, the
arm on a mobile base) and stays right when link lengths in the MJCF change.
Scripted experts and end-effector teleop both call :meth:`ArmKinematics.ik`.

Conventions: positions in metres in the model's world frame; quaternions are
``(x, y, z, w)`` like ROS messages (MuJoCo's own order is ``w, x, y, z``); the
end-effector frame is the ``ee`` site: z along the approach direction, x along the
jaw opening axis.
"""

from __future__ import annotations

import mujoco
import numpy as np

from embodied_stack.sim import so_arm


def quat_xyzw_from_matrix(rot: np.ndarray) -> np.ndarray:
    q_wxyz = np.empty(4)
    mujoco.mju_mat2Quat(q_wxyz, np.ascontiguousarray(rot, dtype=np.float64).reshape(9))
    return np.array([q_wxyz[1], q_wxyz[2], q_wxyz[3], q_wxyz[0]])


def matrix_from_quat_xyzw(quat_xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = np.asarray(quat_xyzw, dtype=np.float64)
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, np.array([w, x, y, z]) / np.linalg.norm([w, x, y, z]))
    return mat.reshape(3, 3)


def top_down_quat(yaw: float) -> np.ndarray:
    """Orientation (xyzw) of a gripper pointing straight down with its jaw axis at
    ``yaw`` (rad) about world z: the grasp pose for objects on a table."""
    c, s = np.cos(yaw), np.sin(yaw)
    x_axis = np.array([c, s, 0.0])
    z_axis = np.array([0.0, 0.0, -1.0])
    y_axis = np.cross(z_axis, x_axis)
    return quat_xyzw_from_matrix(np.column_stack([x_axis, y_axis, z_axis]))


class ArmKinematics:
    """FK/IK for the arm joints :data:`so_arm.JOINT_NAMES` of ``model``.

    Uses its own ``MjData``, so calling it never disturbs a running simulation.

    Args:
        model: any MuJoCo model containing the SO-arm (bare arm or a world including it).
        site: end-effector site name.
        rot_weight: metres of position error one radian of orientation error is worth;
            below 1 because a 5-DoF arm cannot reach every 6-D pose and position matters more.
    """

    def __init__(self, model: mujoco.MjModel, site: str = so_arm.EE_SITE, rot_weight: float = 0.1) -> None:
        self.model = model
        self._data = mujoco.MjData(model)
        self._site_id = model.site(site).id
        joints = [model.joint(name) for name in so_arm.JOINT_NAMES]
        self._qpos_adr = np.array([int(j.qposadr[0]) for j in joints])
        self._dof_adr = np.array([int(j.dofadr[0]) for j in joints])
        self.lower = np.array([j.range[0] for j in joints])
        self.upper = np.array([j.range[1] for j in joints])
        self.rot_weight = rot_weight
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def _set(self, q: np.ndarray) -> None:
        self._data.qpos[self._qpos_adr] = q
        mujoco.mj_kinematics(self.model, self._data)
        mujoco.mj_comPos(self.model, self._data)  # the Jacobian needs cdof from here

    def fk(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End-effector position (m) and orientation (quaternion xyzw) at joint positions ``q`` (rad)."""
        self._set(np.asarray(q, dtype=np.float64))
        pos = self._data.site_xpos[self._site_id].copy()
        rot = self._data.site_xmat[self._site_id].reshape(3, 3)
        return pos, quat_xyzw_from_matrix(rot)

    def pose_error(self, q: np.ndarray, target_pos: np.ndarray,
                   target_quat: np.ndarray | None = None) -> tuple[float, float]:
        """Position error (m) and orientation error (rad) of ``q`` against a target pose."""
        self._set(np.asarray(q, dtype=np.float64))
        err_p, err_r = self._errors(np.asarray(target_pos, dtype=np.float64),
                                    None if target_quat is None else matrix_from_quat_xyzw(target_quat))
        return float(np.linalg.norm(err_p)), float(np.linalg.norm(err_r))

    def _errors(self, target_pos: np.ndarray, target_rot: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        err_p = target_pos - self._data.site_xpos[self._site_id]
        if target_rot is None:
            return err_p, np.zeros(3)
        rot = self._data.site_xmat[self._site_id].reshape(3, 3)
        # Small-angle rotation taking rot to target_rot, in the world frame.
        err_r = 0.5 * sum(np.cross(rot[:, i], target_rot[:, i]) for i in range(3))
        return err_p, err_r

    def ik(self, target_pos: np.ndarray, target_quat: np.ndarray | None = None,
           q0: np.ndarray | None = None, max_iters: int = 60, tol: float = 1e-4,
           damping: float = 1e-3) -> np.ndarray:
        """Joint positions (rad, within limits) that bring the ``ee`` site to ``target_pos``
        (m) and, if given, orientation ``target_quat`` (xyzw), starting from ``q0``.

        Damped least squares; returns the best found even if the target is out of reach,
        so check :meth:`pose_error` when that matters.
        """
        start = so_arm.HOME_QPOS if q0 is None else q0
        q = np.clip(np.asarray(start, dtype=np.float64), self.lower, self.upper)
        target_pos = np.asarray(target_pos, dtype=np.float64)
        if target_pos.shape != (3,) or not np.all(np.isfinite(target_pos)):
            raise ValueError(f"ik target_pos must be 3 finite numbers (m), got {target_pos!r}")
        target_rot = None if target_quat is None else matrix_from_quat_xyzw(target_quat)
        rows = 3 if target_rot is None else 6
        for _ in range(max_iters):
            self._set(q)
            err_p, err_r = self._errors(target_pos, target_rot)
            err = np.concatenate([err_p, self.rot_weight * err_r])[:rows]
            if np.linalg.norm(err) < tol:
                break
            mujoco.mj_jacSite(self.model, self._data, self._jacp, self._jacr, self._site_id)
            jac = np.vstack([self._jacp[:, self._dof_adr],
                             self.rot_weight * self._jacr[:, self._dof_adr]])[:rows]
            dq = jac.T @ np.linalg.solve(jac @ jac.T + damping * np.eye(rows), err)
            norm = np.linalg.norm(dq)
            if norm > 0.5:  # trust region: keeps DLS from jumping across joint limits
                dq *= 0.5 / norm
            q = np.clip(q + dq, self.lower, self.upper)
        return q
