"""Sim bridge node: the ``robot_driver`` node around a MuJoCo world.

It *is* :class:`~embodied_stack.driver.node.RobotDriverNode` -- the same lifecycle, trajectory
following, limits, watchdog, e-stop (``/estop`` + ``~/estop``), /diagnostics and topics as on
real hardware -- with the robots built by the simulated world instead of a vendor SDK. What
it adds is only what a simulator has and hardware does not:
  - world stepping in the driver loop, paced to ``real_time_factor`` (``/clock`` and sim-time
    stamps when ``publish_clock``),
  - ground truth for evaluation on ``/sim/ground_truth/{objects,people}``,
  - ``~/reset`` (Trigger): reset the world to ``seed``.
Physics, rendering and command application all run in the loop thread that owns MuJoCo's
data; ROS callbacks only hand commands over.
"""

from __future__ import annotations

import threading
import time

from diagnostic_msgs.msg import KeyValue
from embodied_stack_interfaces.msg import (
    DetectedObject,
    DetectedObjectArray,
    TrackedPerson,
    TrackedPersonArray,
)
from rosgraph_msgs.msg import Clock
from std_srvs.srv import Trigger

from embodied_stack.driver.node import RobotDriverNode
from embodied_stack.hardware import Robot
from embodied_stack.robots import load_description
from embodied_stack.robots.description import load_parts
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import ParamSpec
from embodied_stack.ros.time import from_sec
from embodied_stack.sim_bridge.pacer import RealTimePacer
from embodied_stack.sim_bridge.worlds import WORLD_ROBOTS, WORLDS, make_world

SIM_SPECS = [
    ParamSpec("world", "tabletop", "world to simulate", choices=sorted(WORLDS), read_only=True),
    ParamSpec("world_config", "", "world YAML (''= the world's default under config/sim/)", read_only=True),
    ParamSpec("seed", 0, "world reset seed", min=0, max=2**31 - 1),
    ParamSpec("real_time_factor", 1.0, "sim seconds per wall second (0 = as fast as possible)",
              min=0.0, max=100.0),
    ParamSpec("publish_clock", False, "publish /clock and stamp with sim time (consumers: use_sim_time)",
              read_only=True),
    ParamSpec("ground_truth_rate_hz", 5.0, "ground-truth publish rate, Hz (0 = off)", min=0.0, max=100.0),
    ParamSpec("calibrated_cameras", True,
              "keep cameras at their nominal pose (the extrinsics of the robot description), as on a "
              "calibrated robot; false keeps the world's camera-pose randomisation", read_only=True),
]


class SimBridgeNode(RobotDriverNode):
    def __init__(self) -> None:
        self.world = None
        self._reset_requested = threading.Event()
        # the world's control rate is the loop rate; the world decides the robot and its backend
        super().__init__("sim_bridge", SIM_SPECS, drop_specs=("robot", "backend", "port", "rate_hz"))

    # --- driver hooks ---------------------------------------------------------------------------------
    def build_robots(self) -> tuple[Robot | None, Robot | None]:
        p = self.params
        self.world = make_world(p["world"], p["world_config"])
        randomization = getattr(getattr(self.world, "config", None), "randomization", None)
        if p["calibrated_cameras"] and randomization is not None and hasattr(randomization, "camera_pose"):
            # consumers read camera extrinsics from the description (or /tf): a jittered camera would put
            # every grounded object 1-2 cm off (measured in the demo)
            randomization.camera_pose = False
        self.world.reset(p["seed"])
        self.parts = load_parts(load_description(WORLD_ROBOTS[p["world"]]))
        robots = self.world.robots.values()
        arm = next((r for r in robots if "arm" in r.capabilities), None)
        base = next((r for r in robots if "base" in r.capabilities), None)
        return arm, base

    def stack_time(self) -> float:
        if self.params["publish_clock"] and self.world is not None:
            return self.world.time
        return time.time()

    def loop_period(self) -> float:
        return self.world.control_dt if self.world is not None else 0.04

    def _make_publishers(self) -> None:
        super()._make_publishers()
        self.pub_clock = self.create_publisher(Clock, "/clock", 10) if self.params["publish_clock"] else None
        self.pub_gt_objects = self.create_publisher(DetectedObjectArray, "/sim/ground_truth/objects",
                                                    qos.EVENTS)
        self.pub_gt_people = self.create_publisher(TrackedPersonArray, "/sim/ground_truth/people", qos.EVENTS)
        self.create_service(Trigger, "~/reset", self._on_reset, callback_group=self._group)
        self.pacer = RealTimePacer(self.world.control_dt, self.params["real_time_factor"])

    def _on_reset(self, req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
        self._reset_requested.set()
        res.success, res.message = True, "world reset requested"
        return res

    # --- loop (sim thread) -----------------------------------------------------------------------------
    def _run_loop(self) -> None:
        next_camera = next_gt = 0.0
        half_step = 0.5 * self.world.control_dt

        def due(sim_t: float, deadline: float) -> bool:
            # within half a control step: sim time is a sum of physics steps, and a deadline of exactly
            # one camera period later came out a hair late, so 25 Hz cameras at a 25 Hz loop published
            # every other step (12.5-15 Hz measured on the sim_tabletop stack)
            return sim_t + half_step >= deadline

        def advance(sim_t: float, deadline: float, period: float) -> float:
            # keep the phase; after a long stall start over from now instead of publishing a burst
            return deadline + period if deadline + period > sim_t else sim_t + period

        while self._running and self.context.ok():
            try:
                if self._reset_requested.is_set():
                    self._reset_requested.clear()
                    self.world.reset(self.params["seed"])
                    self.core.request_hold()
                self.world.step()
                self.loop_step()  # the driver cycle: read the new state, apply commands, publish state
                now = self.stack_time()
                if self.pub_clock is not None:
                    self.pub_clock.publish(Clock(clock=from_sec(now)))
                sim_t = self.world.time
                if self.camera_pubs and due(sim_t, next_camera):
                    next_camera = advance(sim_t, next_camera, 1.0 / self.params["camera_rate_hz"])
                    self.publish_cameras(now)
                gt_rate = self.params["ground_truth_rate_hz"]
                if gt_rate > 0 and due(sim_t, next_gt):
                    next_gt = advance(sim_t, next_gt, 1.0 / gt_rate)
                    self._publish_ground_truth(now)
            except Exception as e:  # noqa: BLE001 - keep the simulated robot alive, report why
                if not self.context.ok() or not self._running:
                    break  # shutting down: publishers are gone
                self.get_logger().error(f"sim step failed: {e!r}", throttle_duration_sec=1.0)
                time.sleep(0.1)
            self.pacer.real_time_factor = self.params["real_time_factor"]
            self.pacer.wait()

    def _publish_ground_truth(self, now: float) -> None:
        objects = self.world.ground_truth_objects()
        if objects:
            arr = self._header(DetectedObjectArray(), now, "world")
            for o in objects:
                d = DetectedObject(id=o.name, label=o.label, confidence=1.0, visible=True)
                d.header = arr.header
                d.attributes = [KeyValue(key="color", value=o.color)] + [
                    KeyValue(key=k, value=str(v)) for k, v in o.attributes.items()]
                d.pose.position.x, d.pose.position.y, d.pose.position.z = map(float, o.position)
                q = d.pose.orientation
                q.x, q.y, q.z, q.w = map(float, o.quaternion_xyzw)
                d.size.x, d.size.y, d.size.z = map(float, o.size)
                arr.objects.append(d)
            self.pub_gt_objects.publish(arr)
        people = self.world.ground_truth_people()
        if people:
            arr = self._header(TrackedPersonArray(), now, "odom")
            for person in people:
                tp = TrackedPerson(id=int(person.id), confidence=1.0)
                tp.position.x, tp.position.y = map(float, person.position[:2])
                tp.velocity.x, tp.velocity.y = map(float, person.velocity[:2])
                arr.people.append(tp)
            self.pub_gt_people.publish(arr)

    def extra_statuses(self, hw: str, mono: float) -> list:
        if self.world is None or not hasattr(self, "pacer"):
            return []
        factor = self.pacer.achieved_factor()
        return [diagnostics.status(f"{self.get_name()}: simulation", hw, diagnostics.OK,
                                   f"running at {factor:.2f}x real time",
                                   {"achieved_real_time_factor": f"{factor:.3f}",
                                    "overruns": self.pacer.overruns, "sim_time_s": f"{self.world.time:.2f}"})]

    def close(self) -> None:
        super().close()
        if self.world is not None:
            self.world.close()


def main(args: list[str] | None = None) -> int:
    # One executor thread: the simulation runs in its own loop thread and no callback of the sim bridge
    # blocks (the real drivers keep a multi-threaded executor so that the e-stop is served while a
    # transition waits on hardware). rclpy's MultiThreadedExecutor spent its time rebuilding wait sets
    # under the GIL and starved the loop: 14.6 Hz instead of 25 on the sim_tabletop stack with a skill
    # running; with one thread 25.0 Hz (bench/vla_stack_latency.py).
    return run_node(SimBridgeNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
