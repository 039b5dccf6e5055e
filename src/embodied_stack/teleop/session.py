"""Teleoperating the simulated tabletop arm and recording demonstrations, without ROS.

Why: collecting demonstrations in simulation needs nothing but this process — a
device (keyboard, gamepad, SpaceMouse, or the browser console), the IK mapper, the
world, and the recorder writing LeRobotDataset v3.0. The recording clock is simulated
time, so the dataset is exact even when rendering makes the loop slower than real time.

Recorded features: ``observation.images.<camera>`` (RGB), ``observation.state``
(arm joints in rad + gripper opening 0..1) and ``action`` (the joint targets + gripper
target in effect after the safety filter: what the arm was actually told to do).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from embodied_stack.datasets import DatasetError, EpisodeReport
from embodied_stack.recording import Recorder, RecorderConfig, StreamSpec
from embodied_stack.sim import so_arm
from embodied_stack.sim.kinematics import ArmKinematics
from embodied_stack.teleop.base import TeleopAction, Teleoperator
from embodied_stack.teleop.mapping import EndEffectorTeleop

log = logging.getLogger(__name__)
STATE_NAMES = so_arm.DESCRIPTION.state_names  # the simulated arm is an SO-101: its description


def recorder_config(root: str, world, cameras: list[str], **kwargs: Any) -> RecorderConfig:
    """Recorder settings matching a tabletop world: fps = 1 / control_dt, no transport delay."""
    h, w = world.config.camera_height, world.config.camera_width
    streams = [StreamSpec(f"observation.images.{c}", "video", (h, w, 3)) for c in cameras]
    streams += [StreamSpec("observation.state", "float32", (6,), STATE_NAMES),
                StreamSpec("action", "float32", (6,), STATE_NAMES)]
    fps = round(1.0 / world.control_dt)
    return RecorderConfig(root=root, fps=fps, streams=streams, robot_type=so_arm.ROBOT_NAME, delay_s=0.0,
                          **kwargs)


class SimTeleopSession:
    """One teleop + recording loop over a tabletop world.

    Args:
        world: a :class:`~embodied_stack.sim.tabletop.TabletopWorld`.
        device: any connected-or-not :class:`Teleoperator`; its events control recording
            (``start``/``stop``/``next``/``rerecord``/``discard``) and ``estop`` holds the arm.
        recorder: where episodes go (None: teleop only).
        cameras: cameras to show and record.
        realtime: pace the loop to the world's control period (interactive use).
    """

    def __init__(self, world, device: Teleoperator, recorder: Recorder | None = None,
                 cameras: list[str] | None = None, realtime: bool = True, max_linear: float = 0.1) -> None:
        self.world, self.device, self.recorder = world, device, recorder
        self.arm = world.arm
        self.cameras = cameras or [so_arm.SCENE_CAMERA]
        self.realtime = realtime
        self.mapper = EndEffectorTeleop(ArmKinematics(world.model), max_linear=max_linear)
        self.frames: dict[str, np.ndarray] = {}
        self.estopped = False
        self.last_error = ""
        self.reports: list[EpisodeReport] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ loop
    def step(self) -> None:
        """One control period: read the device, command the arm, step physics, record."""
        dt = self.world.control_dt
        # A device that failed (unplugged, terminal closed) stays disabled: the arm holds.
        action = self.device.get_action(time.monotonic()) if self.device.is_connected else TeleopAction()
        for event in action.events:
            self._on_event(event)
        q = self.arm.joint_positions
        if action.enabled and not self.estopped:
            cmd = self.mapper.command(action, q, dt)
            if cmd is not None:
                self.arm.send_joint_command(cmd)
        else:
            self.mapper.release()
        self.world.step()
        t = self.world.time
        frames = self.arm.read_cameras()
        with self._lock:
            for c in self.cameras:
                self.frames[c] = frames[c].rgb
            if self.recorder is not None:
                state = np.append(self.arm.joint_positions, self.arm.gripper_opening)
                target = np.append(self.arm.joint_targets, self.arm.gripper_target)
                for c in self.cameras:
                    self.recorder.push(f"observation.images.{c}", t, frames[c].rgb)
                self.recorder.push("observation.state", t, state.astype(np.float32))
                self.recorder.push("action", t, target.astype(np.float32))
                self._collect(self.recorder.tick(t))

    def _collect(self, _written: int) -> None:
        if self.recorder is not None and len(self.recorder.reports) > len(self.reports):
            self.reports = list(self.recorder.reports)

    def _on_event(self, event: str) -> None:
        if event == "estop":
            self.estopped = True
            self.arm.stop()
            log.warning("e-stop: arm holding; reset on the device to continue")
            return
        if self.recorder is None:
            return
        task = getattr(self.device, "task", None) or None
        t = self.world.time
        with self._lock:
            try:
                if event == "start":
                    self.recorder.start(t, task)
                elif event == "stop":
                    self.recorder.stop(t)
                elif event == "next":
                    self.recorder.next_episode(t, task)
                elif event == "rerecord":
                    self.recorder.rerecord(t)
                elif event == "discard":
                    self.recorder.discard()
                self.last_error = ""
            except DatasetError as e:
                self.last_error = str(e)
                log.warning("recording %s refused: %s", event, e)
            self._collect(0)

    def reset_estop(self) -> None:
        self.estopped = False

    # ------------------------------------------------------------------ threading helpers
    def run(self, duration_s: float | None = None) -> None:
        """Step until :meth:`stop` (or ``duration_s`` of simulated time)."""
        self.device.connect()
        end = None if duration_s is None else self.world.time + duration_s
        next_t = time.monotonic()
        while not self._stop.is_set() and (end is None or self.world.time < end):
            self.step()
            if self.realtime:
                next_t += self.world.control_dt
                time.sleep(max(0.0, next_t - time.monotonic()))

    def start(self) -> SimTeleopSession:
        self._thread = threading.Thread(target=self.run, name="sim-teleop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.recorder is not None:
            self.recorder.close()

    # ------------------------------------------------------------------ console providers
    def latest_frame(self, camera: str) -> np.ndarray | None:
        with self._lock:
            return self.frames.get(camera)

    def status(self) -> dict[str, Any]:
        with self._lock:
            rec = self.recorder.status() if self.recorder is not None else None
        return {
            "sim_time_s": round(self.world.time, 3),
            "joints": dict(zip(STATE_NAMES, np.round(np.append(self.arm.joint_positions,
                                                               self.arm.gripper_opening), 4).tolist(),
                               strict=True)),
            "ee_position_m": np.round(self.world.ee_position(), 4).tolist(),
            "session_estop": self.estopped,
            "recording": rec,
            "error": self.last_error,
        }
