"""Success that lasts (sim.judge.LastingSuccess), in the judge and in the pick-and-place env: an object
that lands in the container counts only after it stayed there, released, for ``success_hold_s``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import embodied_stack.sim.envs  # noqa: F401  (registers the envs)
from embodied_stack.sim.judge import LastingSuccess


def test_the_condition_must_hold_without_a_break():
    judge = LastingSuccess(hold_s=1.0)
    assert not judge.update(0.0, True) and not judge.update(0.9, True)
    assert judge.update(1.0, True)
    assert not judge.update(1.1, False)  # knocked out: the clock starts again
    assert not judge.update(1.2, True) and not judge.update(2.1, True) and judge.update(2.2, True)
    judge.reset()
    assert not judge.update(5.0, True)
    assert LastingSuccess(0.0).update(0.0, True)
    with pytest.raises(ValueError, match="hold_s"):
        LastingSuccess(-0.1)


def _put_target_in_container(env) -> None:
    """Teleport the target object (at rest) into its container, as if the arm had just released it there."""
    u = env.unwrapped
    world = u.world
    adr = world._obj_qadr[u.target_object]
    world.data.qpos[adr:adr + 3] = world.object_position(u.container) + np.array([0.0, 0.0, 0.03])
    world.data.qvel[world._obj_vadr[u.target_object]:world._obj_vadr[u.target_object] + 6] = 0.0


def _take_target_out(env) -> None:
    u = env.unwrapped
    world = u.world
    adr = world._obj_qadr[u.target_object]
    world.data.qpos[adr:adr + 3] = world.object_position(u.container) + np.array([0.0, 0.15, 0.03])


def test_pick_place_success_needs_the_object_to_stay_released_in_the_container():
    env = gym.make("embodied_stack/TabletopPickPlace-v0", success_hold_s=0.5)
    try:
        env.reset(seed=3)
        dt = env.unwrapped.world.control_dt
        hold_steps = int(round(0.5 / dt))
        still = np.zeros(6, dtype=np.float32)  # joint targets unchanged: the arm stays away
        _put_target_in_container(env)
        # in the container from the first step, but not a success until it stayed there 0.5 s
        successes = []
        for _ in range(hold_steps + 2):
            _, _, terminated, _, info = env.step(still)
            successes.append(info["is_success"])
            if terminated:
                break
        assert not any(successes[:hold_steps - 1]) and successes[-1], successes
        # knocked out before the hold time: never a success
        env.reset(seed=4)
        _put_target_in_container(env)
        for _ in range(hold_steps // 2):
            _, _, _, _, info = env.step(still)
            assert not info["is_success"]
        _take_target_out(env)
        for _ in range(hold_steps + 2):
            _, _, terminated, _, info = env.step(still)
            assert not info["is_success"] and not terminated
    finally:
        env.close()
