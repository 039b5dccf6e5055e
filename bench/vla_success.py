"""Tabletop success of a VLA checkpoint as the stack runs it, with 95 % intervals.

    python bench/vla_success.py [--checkpoint checkpoints/vla_tabletop] [--episodes 100] [--seeds 0 1]
                                [--combinations seen compositional] [--latency-steps 0 1]

Held-out scenes (evaluation seeds 0 and 1: layouts 10000-10099 and 11000-11099, never used for
demonstrations) with held-out English and Chinese phrasings; each episode runs through the one rollout
loop (``vla.rollout``: the node's ``PolicyRunner`` with its clamps, chunking and ensembling, on the
simulator's clock), the instruction grounded the way the stack grounds it (``vla.grounded_goal``: the
sim bridge's 320x240 RGB-D frames, the perception node's detector, tracker and grounder, extrinsics from
config; a grounding failure fails the episode) and success that lasts (released and still in the
container 1 s later, ``sim.judge.LastingSuccess``). One row per task combinations x chunk latency:
``seen`` = the (colour, shape, container) combinations demonstrations ask for, ``compositional`` = only
the held-out ones (``sim.instructions.COMPOSITIONAL_HELD_OUT``); latency 0 = a chunk is used at the tick of
the frame it came from (the node's chunk-driven mode), 1 = one control period later. ``--worlds``: the
default world (four objects, as in every demonstration) and ``clutter`` (config/sim/tabletop_clutter.yaml:
six objects, two distractors more than training ever showed), each its own rows.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: world name -> its YAML (None: the default world, config/sim/tabletop.yaml)
WORLDS: dict[str, str | None] = {"default": None, "clutter": "config/sim/tabletop_clutter.yaml"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="checkpoints/vla_tabletop")
    p.add_argument("--episodes", type=int, default=100, help="episodes per evaluation seed")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--combinations", nargs="+", default=["seen", "compositional"],
                   choices=("seen", "compositional", "all"))
    p.add_argument("--latency-steps", type=int, nargs="+", default=[0, 1], choices=(0, 1))
    p.add_argument("--worlds", nargs="+", default=["default", "clutter"], choices=tuple(WORLDS))
    args = p.parse_args()

    import torch

    from embodied_stack.vla.evaluate import evaluate_tabletop, wilson_interval
    from embodied_stack.vla.policy import VLAPolicy
    from embodied_stack.vla.rollout import RolloutTiming

    torch.set_num_threads(1)
    policy = VLAPolicy(args.checkpoint)
    rows = []
    for world, tasks, latency in itertools.product(args.worlds, args.combinations, args.latency_steps):
        wins = n = grounding = 0
        by_lang: dict[str, list[int]] = {}
        began = time.monotonic()
        for seed in args.seeds:
            r = evaluate_tabletop(policy, args.episodes, seed, timing=RolloutTiming(latency), tasks=tasks,
                                  world_config=WORLDS[world], log=lambda _m: None)
            wins += round(r["mean_success"] * r["episodes"])
            n += r["episodes"]
            grounding += r["grounding_failures"]
            for task, t in r["per_task"].items():
                c = by_lang.setdefault(task.split("[")[1].rstrip("]"), [0, 0])
                c[0] += round(t["success"] * t["n"])
                c[1] += t["n"]
        rows.append((world, r["objects"], tasks, latency, wins, n, by_lang, grounding,
                     time.monotonic() - began))

    print(f"\n{args.checkpoint}: held-out tabletop episodes through vla.rollout, perception grounding, "
          "success that lasts 1 s")
    print(f"{'world':>8} {'objects':>7} {'combinations':>14} {'latency':>8} {'success':>14} "
          f"{'95 % interval':>16} {'en':>10} {'zh':>10} {'grounding fail':>15} {'time':>7}")
    for world, objects, tasks, latency, wins, n, by_lang, grounding, took in rows:
        lo, hi = wilson_interval(wins, n)
        langs = {k: f"{w}/{m}" for k, (w, m) in by_lang.items()}
        interval = f"[{100 * lo:.1f}, {100 * hi:.1f}]"
        print(f"{world:>8} {objects:>7} {tasks:>14} {latency:>6} p {wins:>5}/{n:<3} {100 * wins / n:4.1f}% "
              f"{interval:>16} {langs.get('en', '-'):>10} {langs.get('zh', '-'):>10} {grounding:>15} "
              f"{took:>6.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
