"""The perception node for real, over DDS: good frames give tracked objects, people and
grounding; malformed frames are logged, counted in diagnostics and never crash it."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from embodied_stack_interfaces.msg import DetectedObjectArray, TrackedPersonArray
from embodied_stack_interfaces.srv import GroundObject
from sensor_msgs.msg import CameraInfo, Image, LaserScan

from embodied_stack.perception import synthetic
from embodied_stack.ros import qos
from embodied_stack.ros.images import numpy_to_image
from embodied_stack.ros.time import from_sec
from ros_testing import RosHarness, start_node_process, stop_process

MODULE = "embodied_stack.perception.node"
W, H = 240, 180


@pytest.fixture(scope="module")
def scene():
    objects = [
        synthetic.SyntheticObject(
            "red_cube", "cube", "red", np.array([0.2, 0.12, 0.02]), np.full(3, 0.04), 0.3
        ),
        synthetic.SyntheticObject(
            "blue_cube", "cube", "blue", np.array([0.25, -0.1, 0.02]), np.full(3, 0.04)
        ),
        synthetic.SyntheticObject(
            "green_ball", "sphere", "green", np.array([0.3, 0.02, 0.02]), np.full(3, 0.04)
        ),
    ]
    k = synthetic.intrinsics(W, H)
    rgb, depth = synthetic.render(objects, synthetic.default_camera(), k, W, H)
    return rgb, depth, k


class Feeder:
    """Publishes camera, depth, camera info and scans with increasing stamps."""

    def __init__(self, harness: RosHarness, scene) -> None:
        n = harness.node
        self.h = harness
        self.rgb, self.depth, self.k = scene
        self.color_pub = n.create_publisher(Image, "/camera/color/image_raw", qos.SENSOR)
        self.depth_pub = n.create_publisher(Image, "/camera/depth/image_rect_raw", qos.SENSOR)
        self.info_pub = n.create_publisher(CameraInfo, "/camera/color/camera_info", qos.SENSOR)
        self.scan_pub = n.create_publisher(LaserScan, "/scan", qos.SENSOR)
        self.t = 100.0

    def frame(
        self,
        color: Image | None = None,
        depth: Image | None = None,
        info: CameraInfo | None = None,
        send_info: bool = True,
        stamp: float | None = None,
    ) -> None:
        self.t += 0.1
        st = from_sec(self.t if stamp is None else stamp)
        color = color or numpy_to_image(self.rgb, "rgb8")
        depth = depth or numpy_to_image((self.depth * 1000).astype(np.uint16), "16UC1")
        if info is None:
            info = CameraInfo(width=W, height=H, k=self.k.reshape(-1).tolist())
        for msg, frame in (
            (color, "camera_color_optical_frame"),
            (depth, "camera_color_optical_frame"),
            (info, "camera_color_optical_frame"),
        ):
            msg.header.stamp, msg.header.frame_id = st, frame
        self.color_pub.publish(color)
        self.depth_pub.publish(depth)
        if send_info:
            self.info_pub.publish(info)
        # two people 2 m ahead, as 0.2 m-radius circles in a 360-degree scan
        angles = -np.pi + np.arange(720) * (2 * np.pi / 720)
        ranges = np.full(720, np.inf)
        for cx, cy in ((2.0, 0.5), (1.5, -1.0)):
            d = np.stack([np.cos(angles), np.sin(angles)], 1)
            b = d @ np.array([-cx, -cy])
            disc = b**2 - (cx**2 + cy**2 - 0.04)
            t = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
            ranges = np.minimum(ranges, np.where(t > 0, t, np.inf))
        scan = LaserScan(
            angle_min=-np.pi,
            angle_max=np.pi,
            angle_increment=2 * np.pi / 720,
            range_min=0.1,
            range_max=12.0,
            ranges=ranges.astype(np.float32).tolist(),
        )
        scan.header.stamp, scan.header.frame_id = st, "laser"
        self.scan_pub.publish(scan)
        self.h.spin_for(0.12)


def test_node_tracks_grounds_and_survives_bad_input(scene):
    proc = start_node_process(
        MODULE,
        "-p",
        "objects.pixel_stride:=1",
        "-p",
        "publish_cloud:=true",
        "-p",
        "diagnostics_period_s:=0.5",
    )
    h = RosHarness("perception_test")
    got: dict[str, list] = {"objects": [], "people": []}
    statuses: dict[str, DiagnosticStatus] = {}
    h.node.create_subscription(DetectedObjectArray, "/perception/objects", got["objects"].append, qos.EVENTS)
    h.node.create_subscription(TrackedPersonArray, "/perception/people", got["people"].append, qos.EVENTS)
    h.node.create_subscription(
        DiagnosticArray, "/diagnostics", lambda m: statuses.update({s.name: s for s in m.status}), qos.EVENTS
    )
    feed = Feeder(h, scene)
    try:
        # wait for discovery, then good frames -> three confirmed objects and two people
        assert h.spin_until(lambda: h.node.count_subscribers("/camera/color/image_raw") > 0, timeout=20)
        for _ in range(60):
            feed.frame()
            if (
                got["objects"]
                and len(got["objects"][-1].objects) == 3
                and got["people"]
                and len(got["people"][-1].people) == 2
            ):
                break
        assert got["objects"] and len(got["objects"][-1].objects) == 3, proc.poll()
        last = got["objects"][-1]
        assert last.header.frame_id == "base_link"
        labels = sorted(({kv.key: kv.value for kv in o.attributes}["color"], o.label) for o in last.objects)
        assert labels == [("blue", "cube"), ("green", "sphere"), ("red", "cube")]
        red = next(
            o
            for o in last.objects
            if o.attributes[0].value == "red" or {kv.key: kv.value for kv in o.attributes}["color"] == "red"
        )
        assert abs(red.pose.position.x - 0.2) < 0.01 and abs(red.pose.position.y - 0.12) < 0.01
        assert len(got["people"][-1].people) == 2

        # grounding over the service
        client = h.node.create_client(GroundObject, "/perception/ground_object")
        assert client.wait_for_service(timeout_sec=10)

        def ground(phrase: str) -> GroundObject.Response:
            fut = client.call_async(GroundObject.Request(phrase=phrase))
            assert h.spin_until(fut.done, timeout=10)
            return fut.result()

        r = ground("the red block")
        assert r.status == GroundObject.Response.FOUND and r.object_id == red.id, r.message
        assert ground("蓝色的方块").status == GroundObject.Response.FOUND
        amb = ground("the cube")
        assert amb.status == GroundObject.Response.AMBIGUOUS and len(amb.candidate_ids) == 2
        assert ground("the purple bowl").status == GroundObject.Response.NOT_FOUND

        # malformed input: every kind, each followed by good frames that must still be processed
        def rejected(reason: str) -> int:
            st = statuses.get("perception: processing")
            return int({kv.key: kv.value for kv in st.values}.get(f"rejected_{reason}", 0)) if st else 0

        yuv = Image(height=H, width=W, encoding="yuv422", step=2 * W, data=bytes(2 * W * H))
        bad = [
            (dict(color=yuv), "encoding"),
            (dict(depth=numpy_to_image(np.zeros((H // 2, W // 2), np.uint16), "16UC1")), "size_mismatch"),
            (dict(depth=numpy_to_image(np.full((H, W), np.nan, dtype=np.float32), "32FC1")), "invalid_depth"),
            (dict(info=CameraInfo(width=W, height=H)), "camera_info"),  # all-zero K: uncalibrated
            (dict(stamp=50.0), "out_of_order"),
        ]
        for kwargs, reason in bad:
            before_count = rejected(reason)
            for _ in range(5):  # sensor QoS is best-effort: a frame may be lost, send again
                before = len(got["objects"])
                feed.frame(**kwargs)
                h.spin_until(lambda r=reason, n=before_count: rejected(r) > n, timeout=1.5)
                assert len(got["objects"]) == before, f"published objects from bad input ({reason})"
                if rejected(reason) > before_count:
                    break
            assert rejected(reason) > before_count, f"bad input ({reason}) not reported in diagnostics"
            assert proc.poll() is None, "node died on bad input"
            before = len(got["objects"])
            for _ in range(30):
                feed.frame()
                if len(got["objects"]) > before:
                    break
            assert len(got["objects"]) > before, f"node stopped publishing after bad input ({reason})"
        # missing camera info: colour and depth alone never make an RGB-D set
        before = len(got["objects"])
        for _ in range(5):
            feed.frame(send_info=False)
        assert len(got["objects"]) == before
        assert statuses["perception: processing"].level == DiagnosticStatus.WARN
    finally:
        code, out = stop_process(proc, signal.SIGINT)
        h.close()
    assert code == 0, out
    for needle in ("unsupported encoding", "differ", "valid", "focal lengths", "older than"):
        assert needle in out, f"no log line about '{needle}':\n{out}"
    assert "Traceback" not in out, out
