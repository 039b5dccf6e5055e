"""Our custom messages and the ExecuteSkill action between two processes over DDS."""

import os
import sys

import pytest
from diagnostic_msgs.msg import KeyValue
from embodied_stack_interfaces.action import ExecuteSkill
from embodied_stack_interfaces.msg import DetectedObjectArray
from rclpy.action import ActionClient

from embodied_stack.ros import qos
from ros_testing import RosHarness, start_node_process, stop_process

PEER_DIR = os.path.dirname(__file__)


@pytest.fixture
def peer():
    proc = start_node_process("interface_peer", env={"PYTHONPATH": os.pathsep.join([PEER_DIR, *sys.path])})
    yield proc
    code, out = stop_process(proc)
    assert code == 0, out


def test_custom_messages_and_skill_action_across_processes(peer):
    h = RosHarness()
    try:
        got = []
        h.node.create_subscription(DetectedObjectArray, "objects", got.append, qos.EVENTS)
        assert h.spin_until(lambda: got, timeout=25), "no DetectedObjectArray from the peer process"
        obj = got[-1].objects[0]
        assert ((obj.id, obj.label, obj.attributes[0].value, round(obj.pose.position.x, 3))
                == ("obj_1", "cube", "red", 0.3))

        client = ActionClient(h.node, ExecuteSkill, "execute_skill")
        assert h.spin_until(client.server_is_ready, timeout=15)
        feedback = []
        goal = ExecuteSkill.Goal(skill="pick", instruction="pick the red cube",
                                 arguments=[KeyValue(key="steps", value="4")])
        send = client.send_goal_async(goal, feedback_callback=lambda f: feedback.append(f.feedback.progress))
        assert h.spin_until(send.done, timeout=10) and send.result().accepted
        result = send.result().get_result_async()
        assert h.spin_until(result.done, timeout=10)
        assert result.result().result.success and result.result().result.message == "pick done"
        assert feedback and abs(feedback[-1] - 1.0) < 1e-6

        # cancel a long goal mid-way
        long_goal = ExecuteSkill.Goal(skill="pick", arguments=[KeyValue(key="steps", value="200")])
        send = client.send_goal_async(long_goal)
        assert h.spin_until(send.done, timeout=10)
        h.spin_for(0.3)
        cancel = send.result().cancel_goal_async()
        assert h.spin_until(cancel.done, timeout=10)
        result = send.result().get_result_async()
        assert h.spin_until(result.done, timeout=10)
        assert not result.result().result.success and result.result().result.message == "cancelled"
    finally:
        h.close()
