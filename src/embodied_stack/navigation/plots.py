"""Plots of social navigation results as SVG (trajectories, metric bars) and env frames as RGB arrays.

Why hand-written SVG: two small, dependency-free chart types that open in any browser and diff as text;
matplotlib would be the stack's only user of a 40 MB plotting library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from embodied_stack.navigation.crowd import CrowdState
from embodied_stack.navigation.metrics import Trajectory
from embodied_stack.navigation.scenarios import ScenarioLayout

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def trajectory_svg(traj: Trajectory, walls: np.ndarray, title: str, size: int = 480) -> str:
    """The robot's path (blue, darker later), people's paths (grey), walls, start, goal and outcome."""
    pts = [traj.robot_xy, traj.goal[None]] + ([traj.people_xy.reshape(-1, 2)] if traj.people_xy.size else [])
    if len(walls):
        pts.append(walls.reshape(-1, 2))
    allp = np.vstack(pts)
    lo, hi = allp.min(axis=0) - 1.0, allp.max(axis=0) + 1.0
    scale = (size - 40) / float(max(hi - lo))

    def xy(p: np.ndarray) -> tuple[float, float]:
        return 20 + (p[0] - lo[0]) * scale, size - 20 - (p[1] - lo[1]) * scale

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 20}">',
           f'<text x="10" y="{size + 14}" font-size="13" font-family="sans-serif">{escape(title)} — '
           f'{traj.outcome}{" (" + traj.collision_type + ")" if traj.collision_type else ""}</text>']
    for w in walls:
        (x1, y1), (x2, y2) = xy(w[:2]), xy(w[2:])
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="black" '
                   'stroke-width="3"/>')
    for j in range(traj.people_xy.shape[1]):
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(p) for p in traj.people_xy[:, j]))
        out.append(f'<polyline points="{path}" fill="none" stroke="#999" stroke-width="1"/>')
        cx, cy = xy(traj.people_xy[-1, j])
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{traj.people_radius[j] * scale:.1f}" '
                   'fill="none" stroke="#666"/>')
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(p) for p in traj.robot_xy))
    out.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    for p, colour in ((traj.robot_xy[0], "#2ca02c"), (traj.goal, "#d62728")):
        cx, cy = xy(p)
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}"/>')
    cx, cy = xy(traj.robot_xy[-1])
    out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{traj.robot_radius * scale:.1f}" fill="none" '
               f'stroke="{PALETTE[0]}" stroke-width="2"/>')
    out.append("</svg>")
    return "\n".join(out)


def bars_svg(values: dict[str, dict[str, float]], metric: str, width: int = 640, height: int = 300) -> str:
    """Grouped bars of one metric: ``values[group][series]`` (e.g. scenario -> planner -> value)."""
    groups = list(values)
    series = sorted({s for g in values.values() for s in g})
    finite = [v for g in values.values() for v in g.values() if math.isfinite(v)]
    top = max(finite + [1e-9])
    gw = (width - 60) / max(len(groups), 1)
    bw = gw * 0.8 / max(len(series), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 60}">',
           f'<text x="10" y="16" font-size="14" font-family="sans-serif">{escape(metric)} (max {top:.3g})'
           "</text>"]
    for gi, g in enumerate(groups):
        x0 = 50 + gi * gw
        out.append(f'<text x="{x0:.1f}" y="{height + 36}" font-size="10" font-family="sans-serif">'
                   f"{escape(g)}</text>")
        for si, s in enumerate(series):
            v = values[g].get(s, math.nan)
            if not math.isfinite(v):
                continue
            h = (height - 30) * v / top
            out.append(f'<rect x="{x0 + si * bw:.1f}" y="{height + 20 - h:.1f}" width="{bw * 0.9:.1f}" '
                       f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(s)}: {v:.3g}'
                       "</title></rect>")
    for si, s in enumerate(series):
        out.append(f'<text x="{width - 150}" y="{30 + 14 * si}" font-size="11" font-family="sans-serif" '
                   f'fill="{PALETTE[si % len(PALETTE)]}">{escape(s)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def write_plots(results: Sequence, walls_by_scenario: dict[str, np.ndarray], folder: str | Path,
                metrics: Sequence[str] = ("success", "collision", "intimate_space_pct", "time_to_goal")
                ) -> list[Path]:
    """One trajectory SVG per cell (its first kept episode) and one bar chart per metric and density."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for r in results:
        if r.trajectories:
            path = folder / f"traj_{r.planner}_{r.scenario}_{r.people}.svg"
            walls = walls_by_scenario.get(r.scenario, np.zeros((0, 4)))
            title = f"{r.planner} / {r.scenario} / {r.people} people"
            path.write_text(trajectory_svg(r.trajectories[0], walls, title), encoding="utf-8")
            written.append(path)
    for n in sorted({r.people for r in results}):
        for metric in metrics:
            table: dict[str, dict[str, float]] = {}
            for r in results:
                if r.people == n:
                    table.setdefault(r.scenario, {})[r.planner] = r.metrics.get(metric, math.nan)
            path = folder / f"bars_{metric}_{n}.svg"
            path.write_text(bars_svg(table, f"{metric} at {n} people"), encoding="utf-8")
            written.append(path)
    return written


def rasterize(layout: ScenarioLayout, pose: np.ndarray, robot_radius: float, crowd: CrowdState,
              size: int = 256) -> np.ndarray:
    """An RGB frame (size x size x 3, uint8) of the scene: walls black, people red, robot blue, goal green."""
    xmin, ymin, xmax, ymax = layout.bounds
    scale = size / max(xmax - xmin, ymax - ymin)
    img = np.full((size, size, 3), 255, dtype=np.uint8)
    jj, ii = np.meshgrid(np.arange(size), np.arange(size))
    wx, wy = xmin + (jj + 0.5) / scale, ymax - (ii + 0.5) / scale

    def disc(c: np.ndarray, r: float, colour: tuple[int, int, int]) -> None:
        img[(wx - c[0]) ** 2 + (wy - c[1]) ** 2 <= r * r] = colour

    for w in layout.walls:
        for s in np.linspace(0, 1, int(np.linalg.norm(w[2:] - w[:2]) * scale) + 2):
            disc(w[:2] + s * (w[2:] - w[:2]), 0.06, (0, 0, 0))
    disc(layout.robot_goal, 0.2, (40, 170, 40))
    for p, r in zip(crowd.position, crowd.radius, strict=True):
        disc(p, float(r), (210, 50, 50))
    disc(pose[:2], robot_radius, (40, 90, 210))
    return img
