"""Recorder node: records configured topics into a LeRobotDataset v3.0 (and optionally an MCAP bag).

Topics
  subscribes  each ``streams.<name>.topic`` (type ``streams.<name>.msg_type``, see
              :data:`embodied_stack.recording.convert.MSG_TYPES`): cameras with SENSOR QoS,
              joint states with SENSOR QoS, commands with COMMAND QoS
  subscribes  ``instruction_topic`` (std_msgs/String, reliable): task text of the next frames
  publishes   ``~/status`` (std_msgs/String, JSON: state, task, episodes, frame counts per
              stream, last episode report), LATCHED, on every change and at 1 Hz
Services (std_srvs/Trigger; ``message`` carries the result or the reason of a refusal)
  ``~/start``, ``~/stop`` (save), ``~/rerecord``, ``~/discard``, ``~/next`` (save + start)
Parameters (config/nodes/recorder.yaml)
  root, fps, robot_type, resume, delay_s, max_drop_fraction, keep_flagged, min_free_mb,
  max_episode_s, default_task, instruction_topic, mcap_path, stream_names, and per stream
  ``streams.<name>.{feature, topic, msg_type, shape, names, max_age_s}``

Timestamps: header stamps where messages have them (sensor time), else receive time,
both on the node clock (``use_sim_time`` works). The dataset is checked for a writable
path and free disk before any subscription is made: the node refuses to start otherwise.
"""

from __future__ import annotations

import json
import time
from typing import Any

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.serialization import serialize_message
from std_msgs.msg import String
from std_srvs.srv import Trigger

from embodied_stack.datasets import DatasetError
from embodied_stack.recording.convert import MSG_TYPES, vector_from_message
from embodied_stack.recording.recorder import Recorder, RecorderConfig, StreamSpec
from embodied_stack.ros import qos
from embodied_stack.ros.images import ImageDecodeError, rgb_from_image
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import InvalidParameterError, Parameters, ParamSpec
from embodied_stack.ros.time import to_sec

SPECS = [
    ParamSpec("root", "", "dataset folder (created unless resume), e.g. ~/datasets/pick_cube",
              check=lambda v: None if v else "set the dataset folder"),
    ParamSpec("fps", 30, "dataset frame rate, Hz", min=1, max=240),
    ParamSpec("robot_type", "", "robot type stored in meta/info.json ('' = the robot description's name)"),
    ParamSpec("robot", "", "robot description (config/robots/): joint streams without names record its "
              "joints + gripper, in its order ('' = none)"),
    ParamSpec("resume", False, "append to an existing dataset at root"),
    ParamSpec("delay_s", 0.1, "frames are decided this long after their time, s", min=0.0, max=2.0),
    ParamSpec("max_drop_fraction", 0.05, "flag episodes where a stream missed more than this share",
              min=0.0, max=1.0),
    ParamSpec("keep_flagged", True,
              "save flagged episodes (marked quality/flagged) instead of dropping them"),
    ParamSpec("min_free_mb", 500.0, "refuse to record with less free disk, MB", min=0.0),
    ParamSpec("max_episode_s", 0.0, "stop and save automatically after this long, s (0 = never)", min=0.0),
    ParamSpec("default_task", "", "task instruction until one arrives on instruction_topic"),
    ParamSpec("instruction_topic", "/instruction", "std_msgs/String topic with the task instruction"),
    ParamSpec("mcap_path", "", "also write raw topics to this MCAP file ('' = off)"),
    ParamSpec("stream_names", [""], "names of the streams configured under streams.<name>"),
]


def _stream_specs(name: str) -> list[ParamSpec]:
    p = f"streams.{name}."
    return [
        ParamSpec(p + "feature", "", "dataset feature (observation.images.<cam>, observation.state, action)",
                  check=lambda v: None if v else "set the feature name"),
        ParamSpec(p + "topic", "", "topic to subscribe", check=lambda v: None if v else "set the topic"),
        ParamSpec(p + "msg_type", "sensor_msgs/msg/JointState", "message type", choices=sorted(MSG_TYPES)),
        ParamSpec(p + "shape", [0], "feature shape: [H, W, 3] for images, [n] for vectors ([0] = the "
                  "number of names)",
                  check=lambda v: None if list(v) == [0] or all(int(s) > 0 for s in v)
                  else "all dimensions must be > 0"),
        ParamSpec(p + "names", [""], "joint/element names (selects joints by name; [''] = all in order)"),
        ParamSpec(p + "max_age_s", 0.0, "oldest sample that may fill a frame, s (0 = 1.5 frame periods)",
                  min=0.0),
    ]


class RecorderNode(Node):
    def __init__(self) -> None:
        super().__init__("recorder")
        self.params = Parameters(self, SPECS)
        names = [n for n in self.params["stream_names"] if n]
        if not names:
            raise InvalidParameterError("recorder: stream_names is empty; configure at least one stream")
        self.stream_params = Parameters(self, [s for n in names for s in _stream_specs(n)])
        streams: list[StreamSpec] = []
        self._topics: dict[str, tuple[str, str, list[str]]] = {}
        robot = None
        if self.params["robot"]:
            from embodied_stack.robots import load_description

            robot = load_description(self.params["robot"])
        for n in names:
            prefix = f"streams.{n}."
            sp = {k[len(prefix):]: v for k, v in self.stream_params.values.items() if k.startswith(prefix)}
            msg_type = sp["msg_type"]
            is_image = msg_type == "sensor_msgs/msg/Image"
            elem_names = [x for x in sp["names"] if x]
            if not elem_names and robot is not None and not is_image:
                elem_names = robot.state_names  # the one list of joints: the robot description's
            shape = tuple(int(s) for s in sp["shape"])
            if shape == (0,):
                if is_image or not elem_names:
                    raise InvalidParameterError(f"recorder: streams.{n}.shape is not set (and no names to "
                                                "count): give it, e.g. [224, 224, 3] or [6]")
                shape = (len(elem_names),)
            streams.append(StreamSpec(sp["feature"], "video" if is_image else "float32", shape,
                                      elem_names or None, sp["max_age_s"] or None))
            self._topics[sp["feature"]] = (sp["topic"], msg_type, elem_names)
        config = RecorderConfig(
            root=self.params["root"], fps=int(self.params["fps"]), streams=streams,
            robot_type=self.params["robot_type"] or (robot.name if robot else None),
            resume=self.params["resume"],
            delay_s=self.params["delay_s"], max_drop_fraction=self.params["max_drop_fraction"],
            keep_flagged=self.params["keep_flagged"], min_free_mb=self.params["min_free_mb"],
            default_task=self.params["default_task"], max_episode_s=self.params["max_episode_s"])
        try:
            self.recorder = Recorder(config)
        except DatasetError as e:
            raise InvalidParameterError(f"recorder: {e}") from e
        self.bag = None
        if self.params["mcap_path"]:
            from embodied_stack.recording.bag import McapBag

            self.bag = McapBag(self.params["mcap_path"])
        self._reports_seen = 0
        for feature, (topic, msg_type, elem_names) in self._topics.items():
            self._subscribe(feature, topic, msg_type, elem_names)
        # COMMAND (volatile) matches both latched and plain publishers of the instruction.
        self.create_subscription(String, self.params["instruction_topic"], self._on_instruction, qos.COMMAND)
        if self.bag:
            self.bag.add_topic(self.params["instruction_topic"], "std_msgs/msg/String")
        self.status_pub = self.create_publisher(String, "~/status", qos.LATCHED)
        control = MutuallyExclusiveCallbackGroup()
        for name, fn in (("start", self._start), ("stop", self._stop), ("rerecord", self._rerecord),
                         ("discard", self._discard), ("next", self._next)):
            self.create_service(Trigger, f"~/{name}", self._service(fn), callback_group=control)
        self.create_timer(0.5 / config.fps, self._tick, callback_group=control)
        self.create_timer(1.0, self._publish_status)
        self.get_logger().info(f"recording {list(self._topics)} at {config.fps} fps into "
                               f"{self.recorder.writer.root} ({self.recorder.writer.num_episodes} episodes)")
        self._publish_status()

    # ------------------------------------------------------------------ inputs
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _subscribe(self, feature: str, topic: str, msg_type: str, elem_names: list[str]) -> None:
        pkg, _, cls_name = msg_type.split("/")
        msg_cls = getattr(__import__(f"{pkg}.msg", fromlist=[cls_name]), cls_name)
        is_command = msg_type.startswith(("trajectory_msgs", "geometry_msgs", "std_msgs"))
        profile = qos.RECORD_COMMAND if is_command else qos.RECORD_SENSOR
        if self.bag:
            self.bag.add_topic(topic, msg_type)

        def callback(msg: Any) -> None:
            now = self._now()
            header = getattr(msg, "header", None)
            stamped = header is not None and (header.stamp.sec or header.stamp.nanosec)
            stamp = to_sec(header.stamp) if stamped else now
            if self.bag:
                self.bag.write(topic, serialize_message(msg), int(now * 1e9), int(stamp * 1e9))
            try:
                value = rgb_from_image(msg) if msg_type == "sensor_msgs/msg/Image" \
                    else vector_from_message(msg_type, msg, elem_names)
            except (ImageDecodeError, ValueError) as e:
                self.recorder.aligner.reject(feature)
                self.get_logger().warning(f"{topic}: {e}", throttle_duration_sec=2.0)
                return
            self.recorder.push(feature, stamp, value)

        self.create_subscription(msg_cls, topic, callback, profile)

    def _on_instruction(self, msg: String) -> None:
        if self.bag:
            now = int(self._now() * 1e9)
            self.bag.write(self.params["instruction_topic"], serialize_message(msg), now)
        self.recorder.set_task(msg.data)
        self._publish_status()

    # ------------------------------------------------------------------ control
    def _tick(self) -> None:
        try:
            self.recorder.tick(self._now())
        except DatasetError as e:  # e.g. disk full while saving an auto-stopped episode
            self.get_logger().error(str(e))
        if len(self.recorder.reports) != self._reports_seen:
            self._publish_status()

    def _service(self, fn):
        def handler(request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
            try:
                response.message = fn(self._now()) or "ok"
                response.success = True
            except DatasetError as e:
                response.success, response.message = False, str(e)
            self._publish_status()
            return response
        return handler

    def _start(self, now: float) -> str:
        self.recorder.start(now)
        return f"recording episode {self.recorder.writer.num_episodes}: {self.recorder.task!r}"

    def _wait_for_transit(self) -> None:
        """Let the samples of the episode's last frames arrive before deciding them: they are stamped
        before ``now`` but still in transit (the same ``delay_s`` the running episode waits). The
        subscriptions keep running meanwhile (other callback group). Without this the tail frames
        were counted as dropped whenever the machine was loaded."""
        time.sleep(self.recorder.aligner.delay_s)

    def _stop(self, now: float) -> str:
        if self.recorder.aligner.running:
            self._wait_for_transit()
        return self.recorder.stop(now).summary()

    def _rerecord(self, now: float) -> str:
        self.recorder.rerecord(now)
        return f"re-recording episode {self.recorder.writer.num_episodes}"

    def _discard(self, now: float) -> str:
        self.recorder.discard()
        return "episode discarded"

    def _next(self, now: float) -> str:
        if self.recorder.aligner.running:
            self._wait_for_transit()
        return self.recorder.next_episode(now).summary()

    def _publish_status(self) -> None:
        self._reports_seen = len(self.recorder.reports)
        self.status_pub.publish(String(data=json.dumps(self.recorder.status())))

    def close(self) -> None:
        """Called by run_node at shutdown: an unsaved episode is discarded, the bag finished."""
        self.recorder.close()
        if self.bag:
            self.bag.close()


def main(args: list[str] | None = None) -> int:
    return run_node(RecorderNode, args, multithreaded=True)


if __name__ == "__main__":
    raise SystemExit(main())
