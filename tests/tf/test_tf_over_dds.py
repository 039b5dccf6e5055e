"""/tf, /tf_static and NavigateToPose between two processes over DDS.

The peer (tf_peer.py) publishes the SO-arm's frames from fixed joint values; this process listens
with our TransformListener and must find base_link -> wrist_optical_frame exactly where the
kinematic tree puts it, and the world -> base_link mount the peer added as a separate static.
"""

import json
import os
import sys

import numpy as np
import pytest
from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient
from rclpy.node import Node
from tf2_msgs.msg import TFMessage

from embodied_stack.ros.tf import STATIC_LISTENER_QOS, TransformListener
from embodied_stack.sim import so_arm
from embodied_stack.tf import KinematicTree, Transform
from ros_testing import RosHarness, start_node_process, stop_process

PEER_DIR = os.path.dirname(__file__)
JOINTS = {"shoulder_pan": 0.4, "shoulder_lift": -0.6, "elbow_flex": 1.2, "wrist_flex": 0.8,
          "wrist_roll": -0.3, "finger_left": 0.02, "finger_right": 0.02}
WORLD_MOUNT = Transform("world", "base_link", (0.1, -0.2, 0.75), (0.0, 0.0, 0.38268343, 0.92387953))
TFMESSAGE_HASH = "RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087"  # Jazzy's
NAV2_FEEDBACK_MESSAGE_HASH = "RIHS01_9d1f6fa2eb975ce733b419ac2e97b134d8ff92b6478b6559feed9a50bdfd82b3"


@pytest.fixture(scope="module")
def peer():
    env = {"PYTHONPATH": os.pathsep.join([PEER_DIR, *sys.path]), "TF_PEER_JOINTS": json.dumps(JOINTS),
           "TF_PEER_MOUNT": json.dumps([WORLD_MOUNT.xyz, WORLD_MOUNT.quat_xyzw])}
    proc = start_node_process("tf_peer", env=env)
    yield proc
    code, out = stop_process(proc)
    assert code == 0, out


@pytest.fixture
def harness():
    h = RosHarness("tf_test_listener")
    yield h
    h.close()


def test_listener_receives_static_and_moving_frames(peer, harness):
    tree = KinematicTree.from_mjcf(so_arm.arm_xml_path(), site_frames={so_arm.EE_SITE: "ee_link"})
    listener = TransformListener(harness.node)
    latched: list[TFMessage] = []
    harness.node.create_subscription(TFMessage, "/tf_static", latched.append, STATIC_LISTENER_QOS)
    statics = sorted([t.child for t in tree.static_transforms()] + ["base_link"])
    # the peer sent its statics one call each; the latched message must hold all of them
    assert harness.spin_until(lambda: latched and sorted(t.child_frame_id for t in latched[-1].transforms)
                              == statics, timeout=30), f"/tf_static never carried all of {statics}: {latched}"
    connected = lambda: listener.buffer.can_transform("world", "wrist_optical_frame")  # noqa: E731
    assert harness.spin_until(connected, timeout=30), \
        f"no world -> wrist_optical_frame; frames so far: {listener.buffer.frames()}"

    got = listener.buffer.lookup("base_link", "wrist_optical_frame")
    expected = tree.forward(JOINTS)["wrist_optical_frame"]
    np.testing.assert_allclose(got.matrix(), expected.matrix(), atol=1e-9)
    assert got.stamp is not None and got.stamp > 0  # moving links: stamped by the peer
    in_world = listener.buffer.lookup("world", "wrist_optical_frame")
    np.testing.assert_allclose(in_world.matrix(), WORLD_MOUNT.matrix() @ expected.matrix(), atol=1e-9)
    ee = listener.buffer.lookup("base_link", "ee_link")
    np.testing.assert_allclose(ee.matrix(), tree.forward(JOINTS)["ee_link"].matrix(), atol=1e-9)

    # what RViz/Foxglove on a Jazzy machine check before they subscribe: the type hash on the wire
    infos = harness.node.get_publishers_info_by_topic("/tf")
    assert infos and all(str(i.topic_type_hash) == TFMESSAGE_HASH for i in infos), [str(i.topic_type_hash)
                                                                                     for i in infos]


def test_lookup_or_fallback_says_which_it_used(peer, harness):
    # a node not spun by any executor yet (as in a node's constructor): the helper spins it itself
    node = Node("tf_fallback_probe", context=harness.context)
    try:
        listener = TransformListener(node)
        fallback = Transform.identity("base_link", "wrist_optical_frame")
        found = listener.lookup_or_fallback("base_link", "wrist_optical_frame", fallback, timeout_s=30)
        assert found.used == "tf", found.detail
        expected = KinematicTree.from_mjcf(so_arm.arm_xml_path()).forward(JOINTS)["wrist_optical_frame"]
        np.testing.assert_allclose(found.transform.matrix(), expected.matrix(), atol=1e-9)
        assert node.executor is None  # handed back, free to join the process's executor

        config = Transform("base_link", "scene_optical_frame", (0.55, 0.0, 0.42), (0, 0, 0, 1))
        missing = listener.lookup_or_fallback("base_link", "scene_optical_frame", config, timeout_s=0.3)
        assert missing.used == "config" and missing.transform == config
        assert "frame 'scene_optical_frame' does not exist" in missing.detail
        with pytest.raises(ValueError, match="fallback is base_link -> scene_optical_frame but the lookup is "
                                             "base_link -> wrist_optical_frame"):
            listener.lookup_or_fallback("base_link", "wrist_optical_frame", config, timeout_s=0.1)
    finally:
        node.destroy_node()


def test_navigate_to_pose_round_trip(peer, harness):
    client = ActionClient(harness.node, NavigateToPose, "navigate_to_pose")
    assert harness.spin_until(client.server_is_ready, timeout=30), "no NavigateToPose server in the peer"
    goal = NavigateToPose.Goal(pose=PoseStamped(), behavior_tree="")
    goal.pose.header.frame_id = "map"
    goal.pose.pose.position.x, goal.pose.pose.position.y = 1.5, -0.5
    goal.pose.pose.orientation.w = 1.0
    feedback: list[NavigateToPose.Feedback] = []
    send = client.send_goal_async(goal, feedback_callback=lambda m: feedback.append(m.feedback))
    assert harness.spin_until(send.done, timeout=15) and send.result().accepted
    result = send.result().get_result_async()
    assert harness.spin_until(result.done, timeout=15)
    assert result.result().status == GoalStatus.STATUS_SUCCEEDED
    assert result.result().result.error_code == NavigateToPose.Result.NONE
    assert result.result().result.error_msg == "reached 1.50 -0.50 in map"
    assert harness.spin_until(lambda: feedback, timeout=10)
    assert feedback[0].current_pose.pose.position.x == 1.5 and feedback[0].number_of_recoveries == 1
    infos = harness.node.get_publishers_info_by_topic("/navigate_to_pose/_action/feedback")
    assert [str(i.topic_type_hash) for i in infos] == [NAV2_FEEDBACK_MESSAGE_HASH]
    client.destroy()
