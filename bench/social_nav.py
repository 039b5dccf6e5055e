"""Social navigation benchmark: every planner × scenario at 5/10/20 people on held-out seeds, the CrowdNav++
anchor (20 people, circle crossing, robot invisible), and decision latency per planner at 20 people.

    nice -n 10 .venv/bin/python bench/social_nav.py [--episodes 20] [--anchor-episodes 100] [--json out.json]

Latency ratios are against the social-force planner (the cheapest baseline) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from embodied_stack.navigation.evaluate import evaluate, format_table, load_eval_config, summarise
from embodied_stack.navigation.planners import PLANNERS
from embodied_stack.navigation.scenarios import SCENARIOS

LATENCY_BUDGET_MS = 5.0  # p50 per control step with 20 people (issue #14)
CROWDNAV_PP = {"success": 0.92, "collision": 0.07, "intrusion_pct": 4.23}  # their test log, 20 humans


def _summary_table(results, planners) -> str:
    summary = summarise(results)
    lines = [f"{'people':>6} {'planner':<13}{'episodes':>9}{'success':>9}{'95% CI':>14}{'coll':>7}"
             f"{'tout':>7}{'intim_%':>9}{'pers_%':>9}{'time_s':>8}"]
    for (planner, n), m in sorted(summary.items(), key=lambda kv: (kv[0][1], planners.index(kv[0][0]))):
        ci = f"[{m['success_low']:.2f},{m['success_high']:.2f}]"
        lines.append(f"{n:>6} {planner:<13}{m['episodes']:>9.0f}{m['success']:>9.3f}{ci:>14}"
                     f"{m['collision']:>7.3f}{m['timeout']:>7.3f}{m['intimate_space_pct']:>9.2f}"
                     f"{m['personal_space_pct']:>9.2f}{m['time_to_goal']:>8.1f}")
    return "\n".join(lines)


def _latency_table(results, planners) -> str:
    by = {p: np.concatenate([r.latencies_ms for r in results if r.planner == p and r.people == 20]
                            or [[np.nan]]) for p in planners}
    base = float(np.percentile(by["social_force"], 50)) if "social_force" in by else np.nan
    lines = [f"{'planner':<13}{'steps':>8}{'p50_ms':>9}{'p99_ms':>9}{'x social_force':>16}"
             f"{'<= 5 ms p50':>13}"]
    for p in planners:
        lat = by[p]
        p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
        lines.append(f"{p:<13}{len(lat):>8}{p50:>9.3f}{p99:>9.3f}{p50 / base:>16.1f}"
                     f"{'yes' if p50 <= LATENCY_BUDGET_MS else 'NO':>13}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    protocol = load_eval_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=protocol["episodes"], help="per cell")
    parser.add_argument("--anchor-episodes", type=int, default=100,
                        help="episodes of the 20-people circle-crossing anchor run")
    parser.add_argument("--planners", default=",".join(PLANNERS))
    parser.add_argument("--json", default="", help="also write every cell as JSON lines here")
    args = parser.parse_args(argv)
    planners = args.planners.split(",")
    env = dict(protocol["env"])
    start = time.perf_counter()
    grid = evaluate(planners, SCENARIOS, protocol["people"], args.episodes, protocol["seed"], env)
    print(f"# every planner x scenario x density, {args.episodes} episodes per cell, seeds "
          f"{protocol['seed']}.. (held out), robot {'visible' if env.get('robot_visible') else 'invisible'}, "
          f"{env.get('crowd_model')} people, {env.get('kinematics')}")
    print(format_table(grid))
    print("\n# averaged over scenarios (episode-weighted)")
    print(_summary_table(grid, planners))
    print("\n# decision latency per control step at 20 people (all scenarios)")
    print(_latency_table(grid, planners))
    anchor = evaluate(planners, ["circle_crossing"], [20], args.anchor_episodes, protocol["seed"] + 50_000,
                      env)
    print(f"\n# CrowdNav++ anchor: circle crossing, 20 people, robot invisible, {args.anchor_episodes} "
          "episodes "
          f"(CrowdNav++: success {CROWDNAV_PP['success']}, collision {CROWDNAV_PP['collision']}, "
          f"intrusion {CROWDNAV_PP['intrusion_pct']} %)")
    print(f"{'planner':<13}{'success':>9}{'95% CI':>14}{'coll':>7}{'tout':>7}{'intim_%':>9}{'time_s':>8}")
    for r in anchor:
        m = r.metrics
        ci = f"[{m['success_low']:.2f},{m['success_high']:.2f}]"
        print(f"{r.planner:<13}{m['success']:>9.3f}{ci:>14}"
              f"{m['collision']:>7.3f}{m['timeout']:>7.3f}{m['intimate_space_pct']:>9.2f}{m['time_to_goal']:>8.1f}")
    print(f"\n# wall time {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            for r in grid + anchor:
                f.write(json.dumps(r.as_json()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
