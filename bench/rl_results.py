"""Print the RL learning results table from training runs' logs (and optionally re-evaluate them).

    python bench/rl_results.py                       # every runs/*/progress.csv
    python bench/rl_results.py runs/ppo_locomotion --eval 20

For each run: env, algorithm, env steps, wall time, the last logged training return and success rate,
the first step at which the logged success rate reached ``--bar``, and with ``--eval N`` the success
rate and return of ``final_model.zip`` (or the newest checkpoint) over N seeded episodes.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")


def _read_progress(run: Path) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _float(row: dict[str, str], key: str) -> float | None:
    value = row.get(key, "")
    return float(value) if value not in ("", None) else None


def _latest_model(run: Path) -> Path | None:
    if (run / "final_model.zip").is_file():
        return run / "final_model.zip"
    checkpoints = sorted((run / "checkpoints").glob("*_steps.zip"),
                         key=lambda p: int(p.stem.split("_")[-2]))
    return checkpoints[-1] if checkpoints else None


def summarize(run: Path, bar: float, episodes: int, seed: int) -> dict[str, str]:
    from embodied_stack.rl.config import load_rl_config

    config = load_rl_config(run / "config.yaml")
    rows = _read_progress(run)
    logged = [r for r in rows if _float(r, "rollout/ep_rew_mean") is not None]
    last = logged[-1] if logged else {}
    reached = next((r for r in logged if (_float(r, "rollout/success_rate") or 0.0) >= bar), None)
    out = {
        "run": run.name,
        "env": config.env_id.split("/")[-1],
        "algo": config.algo,
        "steps": f"{int(_float(last, 'time/total_timesteps') or 0):,}",
        "wall_min": f"{(_float(last, 'time/time_elapsed') or 0) / 60:.1f}",
        "train_return": f"{_float(last, 'rollout/ep_rew_mean') or float('nan'):.1f}",
        "train_success": f"{_float(last, 'rollout/success_rate') or 0.0:.2f}",
        f"steps_to_{bar:.2f}": f"{int(_float(reached, 'time/total_timesteps')):,}" if reached else "-",
    }
    if episodes:
        from embodied_stack.rl.evaluate import evaluate

        model = _latest_model(run)
        if model is not None:
            result = evaluate(model, episodes=episodes, seed=seed)
            out["eval_success"] = f"{result.success_rate:.2f}"
            out["eval_return"] = f"{result.mean_return:.1f}"
            if "mean_tracking_error" in result.final_info_means:
                out["eval_vel_err"] = f"{result.final_info_means['mean_tracking_error']:.3f}"
            out["model"] = model.name
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run folders (default: runs/*/ with a progress.csv)")
    parser.add_argument("--bar", type=float, default=0.8, help="success rate whose first step is reported")
    parser.add_argument("--eval", type=int, default=0, metavar="N", help="re-evaluate over N episodes")
    parser.add_argument("--seed", type=int, default=1000, help="first evaluation seed (unseen in training)")
    args = parser.parse_args(argv)
    runs = [Path(r) for r in args.runs] or sorted(p.parent for p in Path("runs").glob("*/progress.csv"))
    if not runs:
        print("no runs found: train with `embodied-stack train rl ... --out runs/<name>` first")
        return 1
    table = [summarize(run, args.bar, args.eval, args.seed) for run in runs]
    columns = list(dict.fromkeys(k for row in table for k in row))
    widths = {c: max(len(c), *(len(row.get(c, "")) for row in table)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in table:
        print("  ".join(row.get(c, "").ljust(widths[c]) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
