"""The policy runner never commands on stale, invalid or missing input, clamps every
command, and stops within one control period of a cancel."""

import numpy as np
import pytest

from embodied_stack.vla.policy import InvalidObservation
from embodied_stack.vla.runner import PolicyRunner, RunnerConfig

LOWER, UPPER = -np.ones(5), np.ones(5)


def _runner(action=None, chunk_size=4):
    def predict(images, state, instruction):
        if not np.all(np.isfinite(state)):
            raise InvalidObservation("state contains NaN")
        a = np.zeros(6) if action is None else np.asarray(action, float)
        return np.tile(a, (chunk_size, 1))

    return PolicyRunner(predict, RunnerConfig(LOWER, UPPER, max_input_age_s=0.2, max_joint_delta=0.1,
                                              max_step_rad=0.15, chunk_size=chunk_size))


def _observe(r, t, state=None):
    r.observe_image("scene", np.zeros((8, 8, 3), np.uint8), t)
    r.observe_state(np.zeros(6) if state is None else state, t)


def test_no_goal_or_no_chunk_means_no_command():
    r = _runner()
    _observe(r, 0.0)
    assert r.tick(0.0) is None  # no goal
    r.start("put the red cube in the bowl")
    assert r.tick(0.0) is None  # no chunk predicted yet
    assert r.infer_once(0.0)
    assert r.tick(0.01) is not None


def test_stale_inputs_stop_commands():
    r = _runner()
    r.start("open the drawer")
    _observe(r, 0.0)
    r.infer_once(0.0)
    assert r.tick(0.1) is not None
    assert r.tick(0.5) is None and "old" in r.last_error  # 0.5 s after the last input
    assert not r.infer_once(0.5)


def test_nan_state_never_moves():
    r = _runner(action=[1, 1, 1, 1, 1, 1])
    r.start("open the drawer")
    _observe(r, 0.0, state=np.full(6, np.nan))
    assert not r.infer_once(0.0)
    assert r.tick(0.0) is None


def test_oversized_actions_are_clamped_to_step_and_limits():
    r = _runner(action=[50, -50, 50, 50, 50, 9])
    r.start("open the drawer")
    _observe(r, 0.0, state=np.array([0.95, 0, 0, 0, 0, 0.5]))
    r.infer_once(0.0)
    cmds = [r.tick(0.01 * i) for i in range(4)]
    for c in cmds:
        assert np.all(c.positions <= UPPER) and np.all(c.positions >= LOWER)
        assert np.all(np.abs(c.positions - np.array([0.95, 0, 0, 0, 0])) <= 0.15 + 1e-9)
        assert 0.0 <= c.gripper <= 1.0


def test_cancel_stops_within_one_period():
    r = _runner(action=[0.5, 0, 0, 0, 0, 0])
    r.start("open the drawer")
    _observe(r, 0.0)
    r.infer_once(0.0)
    assert r.tick(0.0) is not None
    r.cancel()
    assert r.tick(0.04) is None  # the very next tick
    assert not r.infer_once(0.04)


def test_empty_instruction_rejected():
    with pytest.raises(ValueError):
        _runner().start("  ")


def _observe_stamped(r, t, stamps, state=None):
    """Images from ``stamps`` (camera -> header stamp) received at ``t``, plus a joint state."""
    for cam, stamp in stamps.items():
        r.observe_image(cam, np.zeros((8, 8, 3), np.uint8), t, stamp)
    r.observe_state(np.zeros(6) if state is None else state, t)


def test_command_carries_the_newest_image_stamp_behind_its_chunk():
    r = _runner(chunk_size=4)
    r.start("open the drawer")
    _observe_stamped(r, 0.0, {"scene": 100.0, "wrist": 99.9})
    assert r.infer_once(0.0)
    cmd, src = r.tick_with_source(0.01)
    assert cmd is not None and src.image_stamp == 100.0  # the newest of the two cameras
    _observe_stamped(r, 0.03, {"scene": 100.03, "wrist": 100.03})
    cmd, src = r.tick_with_source(0.04)  # no chunk from the new images yet: the old one commands
    assert cmd is not None and src.image_stamp == 100.0
    assert r.infer_once(0.045)
    cmd, src = r.tick_with_source(0.08)  # both chunks cover this step; the newest dominates
    assert src.image_stamp == 100.03 and src.step == 2


def test_unstamped_images_give_no_latency_source():
    r = _runner()
    r.start("open the drawer")
    _observe(r, 0.0)
    r.infer_once(0.0)
    cmd, src = r.tick_with_source(0.01)
    assert cmd is not None and src.image_stamp is None


def test_fresher_chunk_ready_only_for_a_complete_newer_frame():
    r = _runner()
    r.start("open the drawer")
    _observe_stamped(r, 0.0, {"scene": 100.0, "wrist": 100.0})
    assert not r.fresher_chunk_ready()  # no chunk at all
    r.infer_once(0.0)
    assert r.fresher_chunk_ready()  # nothing commanded yet
    r.tick(0.01)
    assert not r.fresher_chunk_ready()  # that frame is already on its way to the robot
    r.observe_state(np.zeros(6), 0.02)  # a joint state alone: same images, no early tick
    r.infer_once(0.02)
    assert not r.fresher_chunk_ready()
    _observe_stamped(r, 0.03, {"scene": 100.03})
    assert not r.fresher_chunk_ready()  # the new image is not inferred yet
    r.infer_once(0.03)
    assert not r.fresher_chunk_ready()  # new scene image, but the wrist image is the commanded one
    _observe_stamped(r, 0.031, {"wrist": 100.03})
    r.infer_once(0.031)
    assert r.fresher_chunk_ready()  # the frame is complete
    r.cancel()
    assert not r.fresher_chunk_ready() and r.tick(0.04) is None


def test_worker_reports_each_chunk_and_its_inference_time():
    import threading
    import time

    r = _runner()
    got: list = []
    done = threading.Event()

    def on_chunk(src):
        got.append(src)
        done.set()

    r.start("open the drawer")
    r.start_worker(time.monotonic, on_chunk)
    try:
        _observe_stamped(r, time.monotonic(), {"scene": 123.0})
        assert done.wait(5.0), "the worker never reported a chunk"
    finally:
        r.stop_worker()
    assert got[0].image_stamp == 123.0 and len(r.infer_seconds) >= 1
