"""The one rollout loop of a VLA in simulation: the shipped ``PolicyRunner`` on a simulated clock.

Why: evaluation, DAgger data collection and the closed-loop tests must measure what the ROS node runs —
the same chunking and ACT temporal ensembling, the same staleness rules, the same clamps (a target never
more than the robot description's ``max_step`` from the measured position, inside the joint limits), the
same action semantics from the checkpoint — not a loop of their own (like SB3's ``evaluate_policy``, one
function everyone calls). The node differs only in its clock (wall time, inference in a worker thread);
here the clock is the simulator's, so a rollout is deterministic per seed.

Timing model (``RolloutTiming``): every ``infer_every`` control periods the runner predicts a chunk from
the newest camera images and joint state. With ``latency_steps=0`` the chunk is ready at the tick of
the period it was observed in — the node's chunk-driven mode when inference is faster than a period (13
ms p50 against 40 ms at 25 Hz, bench/vla_ros_latency.py); with ``latency_steps=1`` it is first used one
period later, as on the fixed timer or when inference is slow.

A tick with no usable chunk (stale input, none covering the step) sends no command: the arm holds its
targets, as the driver holds them when the node sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embodied_stack.hardware import JointCommand
from embodied_stack.vla.runner import PolicyRunner, Predict, RunnerConfig


@dataclass(frozen=True)
class RolloutTiming:
    """When chunks are predicted and first used, in control periods (see the module docstring)."""

    latency_steps: int = 0
    infer_every: int = 1

    def __post_init__(self) -> None:
        if self.latency_steps not in (0, 1) or self.infer_every < 1:
            raise ValueError(f"latency_steps={self.latency_steps} must be 0 or 1 and infer_every="
                             f"{self.infer_every} >= 1")


DEFAULT_TIMING = RolloutTiming()


@dataclass
class RolloutResult:
    """How an episode ended: ``success`` from the env's judge (``info["is_success"]`` at the end),
    ``steps`` control periods, ``commands`` ticks that sent a command, ``holds`` ticks that did not (the
    runner's reason for the last one in ``last_hold_reason``), the final ``info``."""

    success: bool
    steps: int
    commands: int
    holds: int
    last_hold_reason: str = ""
    info: dict[str, Any] = field(default_factory=dict)


#: the node's deployed parameters: the rollout runs the policy with these, as the stack does
NODE_CONFIG = "config/vla/vla_policy_node.yaml"


def runner_config(policy: Any, robot: Any, control_rate_hz: float, max_input_age_s: float,
                  max_joint_delta: float) -> RunnerConfig:
    """The runner's limits from the policy (chunk size, action size and semantics) and the robot
    description (joint limits, the max step from the measured position): the node and the rollout
    build it here, so they cannot differ."""
    return RunnerConfig(joint_lower=robot.lower, joint_upper=robot.upper, control_rate_hz=control_rate_hz,
                        max_input_age_s=max_input_age_s, max_joint_delta=max_joint_delta,
                        max_step_rad=robot.max_step, chunk_size=policy.chunk_size,
                        action_dim=policy.action_dim, action_space=policy.cfg.model.action_space)


def control_rate(policy: Any, override_hz: float = 0.0) -> float:
    """The policy's command rate: the rate its demonstrations were recorded at (the checkpoint's
    fps, one source of truth that comes from the world or robot that recorded them), unless
    ``override_hz`` > 0 (a policy class that stores no rate, e.g. a LeRobot folder, or a test)."""
    if override_hz > 0:
        return float(override_hz)
    rate = getattr(policy, "control_rate_hz", None)
    if not rate:
        raise ValueError("this policy does not say the rate it was trained at (its checkpoint stores no "
                         "fps); set the node's control_rate_hz to the fps of its training data")
    return float(rate)


def deployed_runner_config(policy: Any, node_config: str = NODE_CONFIG) -> RunnerConfig:
    """``runner_config`` with the robot, rate, staleness and delta scale the VLA node is deployed with
    (its parameter file)."""
    from embodied_stack.config import load_yaml
    from embodied_stack.robots import load_description

    params = load_yaml(node_config)["vla_policy"]["ros__parameters"]
    return runner_config(policy, load_description(params["robot"]),
                         control_rate(policy, float(params.get("control_rate_hz", 0.0))),
                         float(params["max_input_age_s"]), float(params["max_joint_delta"]))


def policy_predict(policy: Any, goal: Callable[[], np.ndarray | None]) -> Predict:
    """The runner's predict function: ``policy.predict_chunk`` with the current grounded goal (for
    policies with a goal input)."""
    if int(getattr(policy, "goal_dim", 0)):
        return lambda images, state, instruction: policy.predict_chunk(images, state, instruction, goal())
    return lambda images, state, instruction: policy.predict_chunk(images, state, instruction)


def rollout(env: Any, runner: PolicyRunner, obs: dict[str, Any], instruction: str, cameras: list[str],
            timing: RolloutTiming = DEFAULT_TIMING,
            on_step: Callable[[dict[str, Any], JointCommand | None], None] | None = None) -> RolloutResult:
    """Run one episode of ``env`` (a tabletop env, just reset to ``obs``) with ``runner`` executing
    ``instruction`` until the env terminates or truncates.

    The runner sees the env's camera images and joint state stamped with simulated time, and every tick's
    command (or None) goes to ``env.step_command``. ``on_step(obs, command)`` is called before each step
    (DAgger labels the frame there; evaluation records video)."""
    period = 1.0 / runner.cfg.control_rate_hz
    sim = env.unwrapped
    if abs(sim.world.control_dt - period) > 1e-9:
        raise ValueError(f"the env steps every {sim.world.control_dt:g} s but the runner commands every "
                         f"{period:g} s ({runner.cfg.control_rate_hz:g} Hz): the policy would run at the "
                         "wrong speed; train it on demonstrations recorded at the env's control rate")
    limit = env.spec.max_episode_steps if env.spec is not None else None
    runner.start(instruction)
    step = commands = holds = 0
    reason = ""
    try:
        while True:
            now = step * period
            for cam in cameras:
                runner.observe_image(cam, obs[cam], now)
            runner.observe_state(np.asarray(obs["state"], dtype=np.float64), now)
            infer = step % timing.infer_every == 0
            if infer and timing.latency_steps == 0:
                runner.infer_once(now)
            command = runner.tick(now)
            if infer and timing.latency_steps == 1:
                runner.infer_once(now)  # from this period's inputs, first used at the next tick
            if command is None:
                holds += 1
                reason = runner.last_error or "no chunk covers this step yet"
            else:
                commands += 1
            if on_step is not None:
                on_step(obs, command)
            obs, _, terminated, truncated, info = sim.step_command(command)
            step += 1
            if limit is not None and step >= limit:
                truncated = True  # the registration's TimeLimit (step_command bypasses the wrappers)
            if terminated or truncated:
                return RolloutResult(bool(info["is_success"]), step, commands, holds, reason, info)
    finally:
        runner.cancel()
