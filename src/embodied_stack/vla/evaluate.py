"""Closed-loop evaluation of a VLA checkpoint in simulation, with 95% intervals.

Suites:

* ``metaworld-mt10``: LeRobot's protocol: each MT10 task, ``episodes`` episodes
  (10 in the protocol) on layouts from seeds never used for demonstrations
  (demos use 0..49; evaluation uses 10_000 + 1000*seed + i), success = Meta-World's own
  ``info["success"]`` at any step within the episode limit (400 steps, LeRobot's
  default ``episode_length``).
* ``tabletop``: ``embodied_stack/TabletopPickPlace-v0`` with two cameras, held-out
  seeds (10_000 + 1000*seed + i) and the held-out ``"eval"`` phrasings, English and
  Chinese; ``episodes`` is the total, success = ``info["is_success"]`` before the
  env's 200-step limit.
* ``metaworld-mt50`` and ``metaworld-<easy|medium|hard|very_hard>``: the same protocol on
  MT50 or one of LeRobot's difficulty groups; the summary adds one line per group (the
  breakdown SmolVLA's Table 2 reports).

Intervals are Wilson score intervals (they stay inside [0, 1] and behave at 0% or
100%, unlike the normal approximation).
"""

from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

import numpy as np

from embodied_stack.vla.language import paraphrase
from embodied_stack.vla.policy import TemporalEnsembler, VLAPolicy
from embodied_stack.vla.rollout import (
    DEFAULT_TIMING,
    RolloutTiming,
    deployed_runner_config,
    policy_predict,
    rollout,
)
from embodied_stack.vla.runner import PolicyRunner

EVAL_SEED_BASE = 10_000
# a tabletop episode succeeds when the object stayed released in the container for SUCCESS_HOLD_S of sim
# time (sim.judge.LastingSuccess): a drop or a knock right after landing is a failure
METAWORLD_EPISODE_STEPS = 400


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate (0..1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def run_metaworld_episode(policy: VLAPolicy, task, instruction: str, seed: int,
                          max_steps: int = METAWORLD_EPISODE_STEPS, query_every: int = 1,
                          frames: list[np.ndarray] | None = None) -> tuple[bool, int]:
    """One closed-loop episode: a chunk every ``query_every`` steps, blended by temporal
    ensembling (1 = every step, the most reactive; 2 halves the CPU cost of an evaluation)."""
    ens = TemporalEnsembler(policy.chunk_size, policy.action_dim)
    obs = task.reset(seed)
    cam = policy.cfg.model.cameras[0]
    for step in range(max_steps):
        images = {c: obs[f"observation.images.{c}"] for c in policy.cfg.model.cameras}
        if frames is not None:
            frames.append(images[cam])
        if step % query_every == 0:
            ens.add(step, policy.predict_chunk(images, obs["observation.state"], instruction))
        obs, success = task.step(ens.action(step))
        if success:
            return True, step + 1
    return False, max_steps


def evaluate_metaworld(policy: VLAPolicy, tasks: tuple[str, ...], episodes: int, seed: int,
                       video_dir: str | None = None, videos_per_task: int = 1,
                       paraphrased: bool = False, query_every: int = 1, workers: int = 1, log=print) -> dict:
    """``episodes`` held-out episodes of each task; ``workers`` > 1 runs tasks in that many processes
    (each loads the checkpoint with one torch thread; the result does not depend on ``workers``)."""
    job = dict(episodes=episodes, seed=seed, video_dir=video_dir, videos_per_task=videos_per_task,
               paraphrased=paraphrased, query_every=query_every)
    per_task: dict[str, dict] = {}
    if workers <= 1:
        for name in tasks:
            wins, seconds = _metaworld_task(policy, name, **job)
            per_task[name] = _rate(name, wins, episodes, log, f"  ({seconds:.0f} s)")
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_load_worker_policy, initargs=(policy.checkpoint,)) as pool:
            futures = {pool.submit(_metaworld_task, None, name, **job): name for name in tasks}
            done: dict[str, tuple[int, float]] = {}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                wins, seconds = done[futures[future]]
                log(f"  {futures[future]}: {wins}/{episodes} ({seconds:.0f} s, "
                    f"{len(done)}/{len(tasks)} tasks)")
        for name in tasks:  # the table in the suite's order
            wins, seconds = done[name]
            per_task[name] = _rate(name, wins, episodes, log, f"  ({seconds:.0f} s)")
    groups = _group_summary(per_task, log)
    total = sum(round(r["success"] * r["n"]) for r in per_task.values())
    n = sum(r["n"] for r in per_task.values())
    mean = _rate("MEAN", total, n, log)
    return {"per_task": per_task, "per_group": groups, "mean_success": mean["success"], "ci95": mean["ci95"],
            "episodes": n}


_worker_policy: VLAPolicy | None = None


def _load_worker_policy(checkpoint: str) -> None:
    # A spawned worker inherits the parent's sys.path. If the parent imported LeRobot (vla.adapters), that
    # holds LeRobot's site folder, whose torchvision breaks transformers' import here (the parent survives
    # it only through the adapter's torchvision stub); our checkpoints never need LeRobot.
    from embodied_stack.vla.adapters.lerobot_policy import lerobot_site

    site = str(lerobot_site())
    sys.path[:] = [p for p in sys.path if p != site]
    global _worker_policy
    _worker_policy = VLAPolicy(checkpoint, threads=1)


def _metaworld_task(policy: VLAPolicy | None, name: str, episodes: int, seed: int, video_dir: str | None,
                    videos_per_task: int, paraphrased: bool, query_every: int) -> tuple[int, float]:
    """(successes, seconds) of one task's held-out episodes (``policy`` None: this worker's)."""
    from embodied_stack.vla.metaworld_data import TASK_INSTRUCTIONS, MetaWorldTask, RenderSpec

    policy = policy or _worker_policy
    render = RenderSpec()  # the generator's default: the policy sees frames exactly as recorded
    rng = random.Random(f"{EVAL_SEED_BASE + seed}:{name}")  # per task: the same phrasings in any order
    task = MetaWorldTask(name, seed=EVAL_SEED_BASE + seed, render=render)
    wins = 0
    began = time.monotonic()
    try:
        for i in range(episodes):
            text = paraphrase(TASK_INSTRUCTIONS[name], rng) if paraphrased else TASK_INSTRUCTIONS[name]
            frames: list[np.ndarray] | None = [] if video_dir and i < videos_per_task else None
            ok, _ = run_metaworld_episode(policy, task, text, EVAL_SEED_BASE + 1000 * seed + i,
                                          query_every=query_every, frames=frames)
            wins += ok
            if frames:
                _write_video(Path(video_dir) / f"{name}_ep{i}_{'success' if ok else 'fail'}.mp4", frames)
    finally:
        task.close()
    return wins, time.monotonic() - began


def _rate(label: str, wins: int, n: int, log, suffix: str = "") -> dict:
    """Success rate with its 95 % Wilson interval, logged as one table line."""
    lo, hi = wilson_interval(wins, n)
    log(f"{label:28s} {wins:3d}/{n:<3d} {100 * wins / n:5.1f}%  [{100 * lo:5.1f}, {100 * hi:5.1f}]{suffix}")
    return {"success": wins / n, "n": n, "ci95": [lo, hi]}


def _group_summary(per_task: dict[str, dict], log) -> dict[str, dict]:
    """Success per Meta-World difficulty group present in ``per_task`` (mean over its episodes)."""
    from embodied_stack.vla.metaworld_data import difficulty_of

    counts: dict[str, list[int]] = {}
    for name, r in per_task.items():
        c = counts.setdefault(difficulty_of(name), [0, 0])
        c[0] += round(r["success"] * r["n"])
        c[1] += r["n"]
    return {group: _rate(f"group {group}", w, n, log) for group, (w, n) in counts.items()}


def _write_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = w - w % 2, h - h % 2
        stream.pix_fmt = "yuv420p"
        for f in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[: stream.height, : stream.width]),
                                               format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


GOAL_SOURCES = ("perception", "oracle")


def evaluate_tabletop(policy: VLAPolicy, episodes: int, seed: int, video_dir: str | None = None,
                      videos: int = 3, language: str = "both", goal_source: str = "perception",
                      success_hold_s: float | None = None, timing: RolloutTiming = DEFAULT_TIMING,
                      calibrated_camera: bool | None = None, tasks: str = "seen",
                      world_config: str | None = None, log=print) -> dict:
    """Held-out tabletop episodes, run by the node's ``PolicyRunner`` through ``vla.rollout`` (the
    node's clamps, chunking and ensembling; ``timing`` says when chunks land). For a policy with a goal
    input, ``goal_source="perception"`` grounds each instruction with our perception pipeline on an RGB-D
    frame of the first scene (as on the robot; a grounding failure fails the episode); ``"oracle"`` uses
    simulator truth. ``calibrated_camera`` (None: as the stack's sim bridge, ``calibrated_cameras``):
    the scene camera at its nominal pose, which is what perception's extrinsics say; False jitters it
    per scene (training's randomisation) while perception still assumes the nominal pose. ``tasks``:
    the (colour, shape, container) combinations asked for, ``"seen"`` (those demonstrations ask for)
    or ``"compositional"`` (only those they never ask for, ``sim.instructions.COMPOSITIONAL_HELD_OUT``).
    ``world_config``: the world's YAML (None: the default four objects; config/sim/tabletop_clutter.yaml:
    six, i.e. two more distractors than demonstrations ever showed)."""
    from embodied_stack.vla.grounded_goal import PerceptionGoal
    from embodied_stack.vla.tabletop_data import make_env, oracle_goal, stack_calibrated_cameras

    if goal_source not in GOAL_SOURCES:
        raise ValueError(f"goal_source {goal_source!r} unknown; use one of {GOAL_SOURCES}")
    # the scene camera as the sim_tabletop stack keeps it: perception grounds with the configured extrinsics
    calibrated = stack_calibrated_cameras() if calibrated_camera is None else calibrated_camera
    env = make_env("eval", language, success_hold_s=success_hold_s, calibrated_camera=calibrated, tasks=tasks,
                   world_config=world_config)
    success_hold_s = env.unwrapped.success_hold_s
    perceive = None
    if policy.goal_dim and goal_source == "perception":
        perceive = PerceptionGoal(env.unwrapped.world)
    cameras = list(policy.cfg.model.cameras)
    current_goal: list[np.ndarray | None] = [None]
    runner = PolicyRunner(policy_predict(policy, lambda: current_goal[0]), deployed_runner_config(policy))
    wins, by_lang, grounding_failures = 0, {}, 0
    began = time.monotonic()
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=EVAL_SEED_BASE + 1000 * seed + i)
            goal = None
            if perceive is not None:
                grounded = perceive.ground(info["instruction"])
                goal = grounded.goal
                if goal is None:
                    grounding_failures += 1
                    log(f"  episode {i}: perception could not ground {info['instruction']!r}: "
                        f"{grounded.message}")
                    lang = info["language"]
                    w, n = by_lang.get(lang, (0, 0))
                    by_lang[lang] = (w, n + 1)
                    continue
            elif policy.goal_dim:
                goal = oracle_goal(env)
            frames: list[np.ndarray] | None = [] if video_dir and i < videos else None
            record = None
            if frames is not None:
                def record(o, _command, f=frames):
                    f.append(np.concatenate([o[c] for c in cameras], axis=1))
            current_goal[0] = goal
            result = rollout(env, runner, obs, info["instruction"], cameras, timing, on_step=record)
            ok, info = result.success, result.info
            wins += ok
            lang = info["language"]
            w, n = by_lang.get(lang, (0, 0))
            by_lang[lang] = (w + ok, n + 1)
            if frames:
                _write_video(Path(video_dir) / f"tabletop_ep{i}_{'success' if ok else 'fail'}.mp4", frames,
                             fps=round(runner.cfg.control_rate_hz))
            if (i + 1) % 10 == 0:
                log(f"  {i + 1}/{episodes} episodes, {wins} successes ({time.monotonic() - began:.0f} s)")
    finally:
        if perceive is not None:
            perceive.close()
        env.close()
    per_task = {f"pick_place[{lang}]": _rate(f"pick_place[{lang}]", w, n, log)
                for lang, (w, n) in sorted(by_lang.items())}
    mean = _rate("MEAN", wins, episodes, log, f"  ({time.monotonic() - began:.0f} s)")
    lo, hi = mean["ci95"]
    if policy.goal_dim:
        log(f"goal from {goal_source}; grounding failures: {grounding_failures}/{episodes}")
    camera = "calibrated (nominal pose)" if calibrated else "jittered, uncalibrated"
    log(f"tasks: {tasks} combinations among {len(env.unwrapped.world.objects)} objects "
        f"({world_config or 'the default world'}); camera {camera}")
    log(f"success = released in the container for {success_hold_s:.1f} s of sim time; run by the node's "
        f"PolicyRunner at {runner.cfg.control_rate_hz:g} Hz, chunks first used {timing.latency_steps} "
        "period(s) after their frame")
    return {"per_task": per_task, "mean_success": wins / episodes, "ci95": [lo, hi], "episodes": episodes,
            "success_hold_s": success_hold_s, "latency_steps": timing.latency_steps,
            "calibrated_camera": calibrated, "tasks": tasks, "objects": len(env.unwrapped.world.objects),
            "goal_source": goal_source if policy.goal_dim else None, "grounding_failures": grounding_failures}


def suites() -> tuple[str, ...]:
    from embodied_stack.vla.metaworld_data import SUITES as METAWORLD_SUITES

    return (*METAWORLD_SUITES, "tabletop")


def evaluate_checkpoint(checkpoint: str, suite: str, episodes: int, seed: int, video_dir: str | None = None,
                        paraphrased: bool = False, tasks: list[str] | None = None, query_every: int = 1,
                        goal_source: str = "perception", success_hold_s: float | None = None,
                        latency_steps: int = 0, tasks_split: str = "seen", workers: int = 1,
                        world_config: str | None = None, log=print) -> dict:
    """Evaluate a checkpoint folder on a named suite; returns per-task and mean success."""
    policy = VLAPolicy(checkpoint)
    if suite.startswith("metaworld-"):
        from embodied_stack.vla.metaworld_data import suite_tasks

        chosen = tuple(tasks) if tasks else suite_tasks(suite)
        return evaluate_metaworld(policy, chosen, episodes, seed, video_dir, paraphrased=paraphrased,
                                  query_every=query_every, workers=workers, log=log)
    if suite == "tabletop":
        return evaluate_tabletop(policy, episodes, seed, video_dir, goal_source=goal_source,
                                 success_hold_s=success_hold_s, timing=RolloutTiming(latency_steps),
                                 tasks=tasks_split, world_config=world_config, log=log)
    raise ValueError(f"unknown suite {suite!r}; choose one of {suites()}")
