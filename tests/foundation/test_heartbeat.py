"""The template node, for real: two heartbeat processes over DDS, diagnostics,
parameter validation at start-up and at run time, clean shutdown on SIGINT/SIGTERM."""

import signal

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from std_msgs.msg import Header

from embodied_stack.heartbeat.monitor import HeartbeatMonitor
from embodied_stack.ros import qos
from ros_testing import RosHarness, start_node_process, stop_process

MODULE = "embodied_stack.heartbeat.node"


def test_monitor_alive_rate_and_latency():
    m = HeartbeatMonitor(["a", "b"], timeout_s=0.5)
    for i in range(11):
        m.beat("a", arrival=i * 0.1 + 0.002, stamp=i * 0.1)
    m.beat("stranger", 1.0, 1.0)  # not watched: ignored
    a, b = m.health(now=1.05)
    assert a.alive and abs(a.rate_hz - 10.0) < 1e-6 and abs(a.latency_p50_s - 0.002) < 1e-9
    assert not b.alive and b.count == 0
    assert not m.all_alive(1.05)
    assert not m.health(now=2.0)[0].alive


@pytest.fixture
def harness():
    h = RosHarness()
    yield h
    h.close()


def test_two_nodes_see_each_other_and_stop_cleanly(harness):
    a = start_node_process(MODULE, "-r", "__node:=hb_a", "-p", "peers:=[hb_b]", "-p", "rate_hz:=20.0")
    b = start_node_process(MODULE, "-r", "__node:=hb_b", "-p", "peers:=[hb_a]", "-p", "rate_hz:=20.0")
    statuses = {}

    def on_diag(msg: DiagnosticArray) -> None:
        for s in msg.status:
            statuses[s.name] = s

    harness.node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, qos.EVENTS)
    try:
        ok = harness.spin_until(lambda: all(
            statuses.get(f"{n}: peer {p}") is not None
            and statuses[f"{n}: peer {p}"].level == DiagnosticStatus.OK
            and int(dict((kv.key, kv.value) for kv in statuses[f"{n}: peer {p}"].values)["count"]) > 5
            for n, p in (("hb_a", "hb_b"), ("hb_b", "hb_a"))), timeout=25)
        assert ok, f"peers never healthy: { {k: v.message for k, v in statuses.items()} }"
        values = {kv.key: kv.value for kv in statuses["hb_a: peer hb_b"].values}
        assert 0 < float(values["latency_p50_ms"]) < 100, values
        # b dies -> a reports it as an error
        assert stop_process(b, signal.SIGTERM)[0] == 0
        assert harness.spin_until(lambda: statuses["hb_a: peer hb_b"].level == DiagnosticStatus.ERROR,
                                  timeout=10)
        assert "no heartbeat" in statuses["hb_a: peer hb_b"].message
    finally:
        code_a, out_a = stop_process(a, signal.SIGINT)
        if b.poll() is None:
            stop_process(b)
    assert code_a == 0, out_a
    assert "Traceback" not in out_a


def test_bad_parameter_at_startup_is_refused_with_reason():
    proc = start_node_process(MODULE, "-p", "rate_hz:=-3.0")
    code, out = proc.wait(timeout=30), proc.stdout.read()
    assert code == 2, out
    assert "rate_hz" in out and "Traceback" not in out


def test_bad_parameter_at_runtime_is_rejected_and_node_keeps_running(harness):
    proc = start_node_process(MODULE, "-r", "__node:=hb_param", "-p", "rate_hz:=20.0")
    beats = []
    harness.node.create_subscription(Header, "/hb_param/heartbeat", beats.append, qos.COMMAND)
    client = harness.node.create_client(SetParameters, "/hb_param/set_parameters")
    try:
        assert harness.spin_until(lambda: client.service_is_ready() and len(beats) > 3, timeout=25)

        def set_param(value: float):
            req = SetParameters.Request(parameters=[Parameter("rate_hz", value=value).to_parameter_msg()])
            fut = client.call_async(req)
            assert harness.spin_until(fut.done, timeout=10)
            return fut.result().results[0]

        bad = set_param(-5.0)
        assert not bad.successful and "rate_hz" in bad.reason
        n = len(beats)
        assert harness.spin_until(lambda: len(beats) > n + 5, timeout=10), "node stopped beating"
        assert set_param(50.0).successful
    finally:
        code, out = stop_process(proc)
    assert code == 0, out
