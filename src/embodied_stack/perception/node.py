"""Perception node: camera, depth, camera info, scan and IMU in; tracked objects and people out.

Topics (names are parameters, see config/nodes/perception.yaml)
  subscribes ``topics.color`` (sensor_msgs/Image rgb8/bgr8/rgba8/bgra8), ``topics.depth`` (Image 16UC1 mm
             or 32FC1 m, registered to colour), ``topics.camera_info`` (CameraInfo), ``topics.scan``
             (LaserScan), ``topics.imu`` (Imu), ``topics.odom`` (nav_msgs/Odometry, optional: when set,
             people are tracked and published in its frame) -- all with ``qos_profile_sensor_data``
  publishes  ``topics.objects`` (embodied_stack_interfaces/DetectedObjectArray, in ``base_frame``),
             ``topics.people`` (TrackedPersonArray, in ``base_frame``, or odom's frame), ``topics.markers``
             (visualization_msgs/MarkerArray, if publish_markers), ``topics.cloud`` (PointCloud2 of the
             segmented object points with a ``label`` field, if publish_cloud), ``/diagnostics``
  serves     ``topics.ground_service`` (embodied_stack_interfaces/GroundObject)

Colour, depth and camera info are paired by stamp (approximate time, ``sync.slop_s``); IMU and scan
are attached when within ``sync.optional_slop_s``; people are tracked on every scan as it arrives.
Any malformed input (encoding, size mismatch, NaN/zero depth, missing or zero camera info,
out-of-order stamps) is dropped with a throttled log line naming the reason, counted, and reported
as a WARN in diagnostics; nothing is published from it and the node keeps running.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from embodied_stack_interfaces.msg import (
    DetectedObject,
    DetectedObjectArray,
    TrackedPerson,
    TrackedPersonArray,
)
from embodied_stack_interfaces.srv import GroundObject
from geometry_msgs.msg import Point, Vector3
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image, Imu, LaserScan, PointCloud2, PointField
from visualization_msgs.msg import Marker, MarkerArray

from embodied_stack.common.rate_meter import RateMeter
from embodied_stack.config import load_node_params
from embodied_stack.hardware import LaserScanReading
from embodied_stack.language.vocab import COLORS
from embodied_stack.perception.config import DEFAULT_CONFIG, NODE_NAME, PerceptionConfig
from embodied_stack.perception.geometry import Transform
from embodied_stack.perception.pipeline import PerceptionPipeline
from embodied_stack.perception.sync import ApproxTimeSync
from embodied_stack.perception.tracking import TrackedObject
from embodied_stack.perception.validation import InputRejected, check_intrinsics
from embodied_stack.ros import diagnostics, qos
from embodied_stack.ros.images import ImageDecodeError, depth_from_image, rgb_from_image
from embodied_stack.ros.node_main import run_node
from embodied_stack.ros.params import Parameters, ParamSpec
from embodied_stack.ros.tf import TransformListener
from embodied_stack.ros.time import to_sec
from embodied_stack.tf import TransformError

STREAMS = ("color", "depth", "camera_info", "scan", "imu")


def _specs() -> list[ParamSpec]:
    """One ParamSpec per key of config/nodes/perception.yaml, defaults from that file, so the
    file stays the single source of truth and unknown keys fail in PerceptionConfig."""
    params = load_node_params(DEFAULT_CONFIG, NODE_NAME)
    specs = []
    for name, value in params.items():
        if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            value = [float(v) for v in value]  # ROS arrays are typed: [0, 0.5] must be double[]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        specs.append(
            ParamSpec(
                name,
                value,
                f"perception: '{name}', documented in {DEFAULT_CONFIG} "
                "(units in the name: _m metres, _s seconds, _deg degrees)",
                min=0.0 if numeric and not name.startswith(("camera.", "laser.")) else None,
            )
        )
    return specs


class PerceptionNode(Node):
    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self.params = Parameters(self, _specs(), on_change=lambda _n, _v: self._configure())
        p = self.params
        self.meters = {s: RateMeter(window=50) for s in (*STREAMS, "objects", "people")}
        self.latency_ms: list[float] = []
        self._last_log: dict[str, float] = {}
        self._configure()
        # camera/laser extrinsics from /tf when a driver publishes them (a moving wrist camera, a
        # recalibrated mount); the configured camera/laser poses stay the fallback
        self.tf = TransformListener(self)
        self.extrinsics_source: dict[str, str] = {}
        t = lambda k: p[f"topics.{k}"]  # noqa: E731
        self.create_subscription(Image, t("color"), lambda m: self._on_sensor("color", m), qos.SENSOR)
        self.create_subscription(Image, t("depth"), lambda m: self._on_sensor("depth", m), qos.SENSOR)
        self.create_subscription(
            CameraInfo, t("camera_info"), lambda m: self._on_sensor("camera_info", m), qos.SENSOR
        )
        self.create_subscription(LaserScan, t("scan"), self._on_scan, qos.SENSOR)
        self.create_subscription(Imu, t("imu"), lambda m: self._on_sensor("imu", m), qos.SENSOR)
        self._odom: Odometry | None = None
        if t("odom"):
            self.create_subscription(Odometry, t("odom"), self._on_odom, qos.SENSOR)
        self.objects_pub = self.create_publisher(DetectedObjectArray, t("objects"), qos.EVENTS)
        self.people_pub = self.create_publisher(TrackedPersonArray, t("people"), qos.EVENTS)
        self.markers_pub = self.create_publisher(MarkerArray, t("markers"), qos.EVENTS)
        self.cloud_pub = self.create_publisher(PointCloud2, t("cloud"), qos.SENSOR)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", qos.EVENTS)
        self.create_service(GroundObject, t("ground_service"), self._on_ground)
        self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics)
        self.get_logger().info(
            f"perception up: objects on {t('color')} + {t('depth')}, people on {t('scan')}; "
            f"publishing {t('objects')}, {t('people')}"
        )

    # --- configuration -------------------------------------------------------------------
    def _configure(self) -> None:
        """(Re)build the core from the current parameters; tracks restart on a change."""
        values: dict[str, Any] = dict(self.params.values)
        self.config = PerceptionConfig.from_params(values, "perception node parameters")
        self.pipeline = PerceptionPipeline(self.config)
        s = self.config.sync
        self.sync = ApproxTimeSync(
            ["color", "depth", "camera_info"], ["imu", "scan"], s.slop_s, s.optional_slop_s, s.queue_size
        )

    def _drop(self, what: str, e: InputRejected, counted: bool = False) -> None:
        """Log (throttled) and count a rejected input; ``counted`` when the core already counted it."""
        if not counted:
            self.pipeline.rejections[e.reason] += 1
        self.pipeline.last_rejection = f"{what}: {e}"
        now = time.monotonic()
        if now - self._last_log.get(e.reason, -1e9) >= 2.0:  # throttled per reason, not per call site
            self._last_log[e.reason] = now
            self.get_logger().warning(f"dropped {what} ({e.reason}): {e}")

    # --- inputs ----------------------------------------------------------------------------
    def _on_sensor(self, stream: str, msg: Any) -> None:
        stamp = to_sec(msg.header.stamp)
        self.meters[stream].record(time.time(), stamp)
        try:
            sets = self.sync.add(stream, stamp, msg)
        except InputRejected as e:
            self._drop(stream, e)
            return
        for synced in sets:
            self._process_rgbd(
                synced.messages["color"], synced.messages["depth"], synced.messages["camera_info"]
            )

    def _process_rgbd(self, color: Image, depth: Image, info: CameraInfo) -> None:
        t0 = time.perf_counter()
        try:
            try:
                rgb = rgb_from_image(color)
                depth_m = depth_from_image(depth)
            except ImageDecodeError as e:
                reason = "encoding" if "encoding" in str(e) else "size_mismatch"
                raise InputRejected(reason, str(e)) from None
            if (info.width, info.height) not in ((0, 0), (color.width, color.height)):
                raise InputRejected(
                    "size_mismatch",
                    f"camera_info is for {info.width}x{info.height} but the "
                    f"colour image is {color.width}x{color.height}",
                )
            k = check_intrinsics(np.asarray(info.k), color.width, color.height)
        except InputRejected as e:
            self._drop("RGB-D frame", e)
            return
        try:
            camera_to_base = self._extrinsics("camera", color.header.frame_id or self.config.camera.frame_id)
            tracks = self.pipeline.process_rgbd(rgb, depth_m, k, to_sec(color.header.stamp),
                                                camera_to_base=camera_to_base)
        except InputRejected as e:
            self._drop("RGB-D frame", e, counted=True)
            return
        self.latency_ms.append(1000 * (time.perf_counter() - t0))
        self.latency_ms = self.latency_ms[-200:]
        self._publish_objects(tracks, color.header.stamp)

    def _extrinsics(self, sensor: str, frame: str) -> Transform | None:
        """The sensor frame's pose in the base frame from /tf, or None (the pipeline then uses the
        configured pose); the source in use is on /diagnostics and logged when it changes."""
        base = self.config.base_frame
        try:
            t = self.tf.buffer.lookup(base, frame)
            found: Transform | None = Transform.from_xyz_quat(list(t.xyz), list(t.quat_xyzw))
            source = f"tf ({base} -> {frame})"
        except TransformError as e:
            found, source = None, f"config ({e})"
        if self.extrinsics_source.get(sensor, "").split(" ")[0] != source.split(" ")[0]:
            self.get_logger().info(f"{sensor} extrinsics from {source}")
        self.extrinsics_source[sensor] = source
        return found

    def _on_odom(self, msg: Odometry) -> None:
        self._odom = msg

    def _on_scan(self, msg: LaserScan) -> None:
        stamp = to_sec(msg.header.stamp)
        self.meters["scan"].record(time.time(), stamp)
        try:
            self.sync.add("scan", stamp, msg)
        except InputRejected as e:
            self._drop("scan", e)
            return
        scan = LaserScanReading(
            msg.angle_min,
            msg.angle_increment,
            msg.range_min,
            msg.range_max,
            np.asarray(msg.ranges, dtype=np.float64),
        )
        frame, base_to_fixed = self.config.base_frame, None
        if self.params["topics.odom"]:
            if self._odom is None:
                self.get_logger().warning(
                    f"no odometry yet on '{self.params['topics.odom']}': people are tracked "
                    "in odom once it arrives",
                    throttle_duration_sec=5.0,
                )
                return
            pose = self._odom.pose.pose
            base_to_fixed = Transform.from_xyz_quat(
                [pose.position.x, pose.position.y, pose.position.z],
                [pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w],
            )
            frame = self._odom.header.frame_id or "odom"
        try:
            laser_to_base = self._extrinsics("laser", msg.header.frame_id or self.config.laser.frame_id)
            people = self.pipeline.process_scan(scan, stamp, base_to_fixed=base_to_fixed,
                                                laser_to_base=laser_to_base)
        except InputRejected as e:
            self._drop("scan", e, counted=True)
            return
        out = TrackedPersonArray()
        out.header.stamp = msg.header.stamp
        out.header.frame_id = frame
        for person in people:
            out.people.append(
                TrackedPerson(
                    id=int(person.id),
                    position=Point(x=float(person.position[0]), y=float(person.position[1])),
                    velocity=Vector3(x=float(person.velocity[0]), y=float(person.velocity[1])),
                    confidence=float(person.confidence),
                    position_covariance=float(person.covariance),
                )
            )
        self.people_pub.publish(out)
        self.meters["people"].record(time.time(), stamp)

    # --- outputs ---------------------------------------------------------------------------
    def _publish_objects(self, tracks: list[TrackedObject], stamp_msg) -> None:
        out = DetectedObjectArray()
        out.header.stamp = stamp_msg
        out.header.frame_id = self.config.base_frame
        for t in tracks:
            o = t.observation
            d = DetectedObject(id=t.id, label=o.label, confidence=float(o.confidence), visible=t.visible)
            d.header = out.header
            d.attributes = [KeyValue(key=k, value=v) for k, v in o.attributes.items()]
            d.pose.position = Point(x=float(o.centroid[0]), y=float(o.centroid[1]), z=float(o.centroid[2]))
            q = o.orientation_xyzw
            d.pose.orientation.x, d.pose.orientation.y = float(q[0]), float(q[1])
            d.pose.orientation.z, d.pose.orientation.w = float(q[2]), float(q[3])
            d.size = Vector3(x=float(o.size[0]), y=float(o.size[1]), z=float(o.size[2]))
            out.objects.append(d)
        self.objects_pub.publish(out)
        self.meters["objects"].record(time.time(), to_sec(stamp_msg))
        if self.params["publish_markers"]:
            self.markers_pub.publish(self._markers(out))
        if self.params["publish_cloud"] and self.pipeline.last_scene is not None:
            self.cloud_pub.publish(self._cloud(out.header))

    @staticmethod
    def _markers(objects: DetectedObjectArray) -> MarkerArray:
        arr = MarkerArray(markers=[Marker(header=objects.header, action=Marker.DELETEALL)])
        for i, d in enumerate(objects.objects):
            attrs = {kv.key: kv.value for kv in d.attributes}
            rgb = COLORS[attrs["color"]].rgb if attrs.get("color") in COLORS else (0.5, 0.5, 0.5)
            box = Marker(
                header=objects.header,
                ns="objects",
                id=2 * i,
                type=Marker.CUBE,
                action=Marker.ADD,
                pose=d.pose,
                scale=d.size,
            )
            box.color.r, box.color.g, box.color.b, box.color.a = *map(float, rgb), 0.5 if d.visible else 0.2
            text = Marker(
                header=objects.header,
                ns="labels",
                id=2 * i + 1,
                type=Marker.TEXT_VIEW_FACING,
                action=Marker.ADD,
                text=f"{d.id} {attrs.get('color', '')} {d.label}",
            )
            text.pose.position = Point(
                x=d.pose.position.x, y=d.pose.position.y, z=d.pose.position.z + d.size.z / 2 + 0.03
            )
            text.pose.orientation.w = 1.0
            text.scale.z = 0.02
            text.color.r = text.color.g = text.color.b = text.color.a = 1.0
            arr.markers += [box, text]
        return arr

    def _cloud(self, header) -> PointCloud2:
        scene = self.pipeline.last_scene
        assert scene is not None  # checked by the caller
        data = np.zeros(len(scene.points), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("label", "<i4")])
        data["x"], data["y"], data["z"] = scene.points.T
        data["label"] = scene.point_labels
        fields = [
            PointField(
                name=n,
                offset=4 * i,
                datatype=PointField.FLOAT32 if n != "label" else PointField.INT32,
                count=1,
            )
            for i, n in enumerate(("x", "y", "z", "label"))
        ]
        return PointCloud2(
            header=header,
            height=1,
            width=len(data),
            fields=fields,
            is_bigendian=False,
            point_step=16,
            row_step=16 * len(data),
            data=data.tobytes(),
            is_dense=True,
        )

    def _on_ground(
        self, request: GroundObject.Request, response: GroundObject.Response
    ) -> GroundObject.Response:
        r = self.pipeline.ground(request.phrase)
        response.status = r.status.value
        response.object_id = r.object_id
        response.score = float(r.score)
        response.candidate_ids = [c for c, _ in r.candidates]
        response.candidate_scores = [float(s) for _, s in r.candidates]
        response.message = r.message
        return response

    def _publish_diagnostics(self) -> None:
        hw = self.get_fully_qualified_name()
        now = time.time()
        statuses = [
            diagnostics.stream_status(
                f"{self.get_name()}: {s} in",
                hw,
                self.meters[s],
                now,
                diagnostics.StreamExpectation(stale_after_s=2.0),
                {
                    "dropped_unmatched": str(self.sync.dropped.get(s, 0)),
                    "out_of_order": str(self.sync.out_of_order.get(s, 0)),
                },
            )
            for s in STREAMS
        ]
        if self.meters["color"].count and not self.meters["camera_info"].count:
            self.get_logger().warning(
                f"colour images arrive but no camera_info on '{self.params['topics.camera_info']}'"
                "; objects need the intrinsics",
                throttle_duration_sec=5.0,
            )
        rej = dict(self.pipeline.rejections)
        lat = np.percentile(self.latency_ms, [50, 99]) if self.latency_ms else [float("nan")] * 2
        level = diagnostics.WARN if rej else diagnostics.OK
        message = (
            f"rejected {sum(rej.values())} input(s); last: {self.pipeline.last_rejection}"
            if rej
            else "all input valid"
        )
        statuses.append(
            diagnostics.status(
                f"{self.get_name()}: processing",
                hw,
                level,
                message,
                {
                    "latency_p50_ms": f"{lat[0]:.2f}",
                    "latency_p99_ms": f"{lat[1]:.2f}",
                    "rgbd_sets": str(self.sync.emitted),
                    **{f"{k}_extrinsics": v for k, v in self.extrinsics_source.items()},
                    **{f"rejected_{k}": str(v) for k, v in rej.items()},
                    **{f"stage_{k}_ms": f"{v:.2f}" for k, v in self.pipeline.timings.items()},
                },
            )
        )
        statuses.append(
            diagnostics.stream_status(
                f"{self.get_name()}: objects out",
                hw,
                self.meters["objects"],
                now,
                diagnostics.StreamExpectation(stale_after_s=2.0),
            )
        )
        statuses.append(
            diagnostics.stream_status(
                f"{self.get_name()}: people out",
                hw,
                self.meters["people"],
                now,
                diagnostics.StreamExpectation(stale_after_s=2.0),
            )
        )
        self.diag_pub.publish(diagnostics.array(self.get_clock(), statuses))


def main(args: list[str] | None = None) -> int:
    return run_node(PerceptionNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
