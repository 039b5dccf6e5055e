"""Human-readable summaries, plots and contact sheets of a dataset (``embodied-stack dataset ...``).

Why SVG written by hand: matplotlib is not a dependency of the stack, and a line plot
of a few joint trajectories is a few dozen lines of SVG that any browser opens.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embodied_stack.datasets.reader import LeRobotDataset

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]


def summary(ds: LeRobotDataset) -> str:
    """Multi-line text: format, counts, features, tasks, flagged episodes, per-episode lengths."""
    info, meta = ds.meta.info, ds.meta
    lengths = [int(e["length"]) for e in meta.episodes]
    flagged = [e["episode_index"] for e in meta.episodes if e.get("quality/flagged")]
    lines = [
        f"dataset      {ds.root}",
        f"format       LeRobotDataset {info['codebase_version']}, robot_type={info.get('robot_type')}",
        f"episodes     {meta.total_episodes}   frames {meta.total_frames}   fps {meta.fps}   "
        f"duration {meta.total_frames / meta.fps:.1f} s",
    ]
    if lengths:
        lines.append(f"length       min {min(lengths)}  mean {np.mean(lengths):.1f}  "
                     f"max {max(lengths)} frames")
    lines.append(f"flagged      {len(flagged)} episode(s){': ' + str(flagged) if flagged else ''}")
    lines.append("features")
    for key, ft in info["features"].items():
        extra = ""
        if key in meta.stats and ft["dtype"] != "video":
            st = meta.stats[key]
            extra = f"  min {np.round(st['min'], 3).tolist()}  max {np.round(st['max'], 3).tolist()}"
        names = ft.get("names")
        name_text = f"  names {names}" if names and ft["dtype"] != "video" else ""
        lines.append(f"  {key:32s} {ft['dtype']:8s} {tuple(ft['shape'])}{name_text}{extra}")
    lines.append("tasks")
    for i, task in enumerate(meta.tasks):
        lines.append(f"  [{i}] {task}")
    return "\n".join(lines)


def plot_svg(ds: LeRobotDataset, key: str, episode: int, path: Path, width: int = 800,
             height: int = 300) -> Path:
    """Line plot of every dimension of numeric feature ``key`` over one episode's time (s)."""
    values = ds.episode_column(episode, key)
    values = values.reshape(len(values), -1).astype(float)
    t = np.arange(len(values)) / ds.meta.fps
    names = ds.meta.features[key].get("names") or [f"{key}[{i}]" for i in range(values.shape[1])]
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    m = 40  # margin, px
    t_max = max(float(t[-1]), 1e-9)

    def xy(ti: float, v: float) -> str:
        x = m + (width - 2 * m) * ti / t_max
        y = height - m - (height - 2 * m) * (v - lo) / (hi - lo)
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="11" '
             'font-family="sans-serif">', f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{m}" y="16">{key} - episode {episode} ({len(values)} frames)</text>',
             f'<text x="{m}" y="{height - 10}">0 s</text>',
             f'<text x="{width - m - 30}" y="{height - 10}">{t_max:.2f} s</text>',
             f'<text x="2" y="{m}">{hi:.3g}</text><text x="2" y="{height - m}">{lo:.3g}</text>',
             f'<rect x="{m}" y="{m}" width="{width - 2 * m}" height="{height - 2 * m}" '
             'fill="none" stroke="#999"/>']
    for d in range(values.shape[1]):
        color = _COLORS[d % len(_COLORS)]
        pts = " ".join(xy(ti, v) for ti, v in zip(t, values[:, d], strict=True))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/>')
        parts.append(f'<text x="{width - m + 4}" y="{m + 12 * d + 10}" fill="{color}">{names[d]}</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path


def contact_sheet(ds: LeRobotDataset, key: str, path: Path, episodes: list[int] | None = None,
                  per_episode: int = 8, thumb_width: int = 160) -> Path:
    """PNG grid: one row per episode, ``per_episode`` frames evenly spaced in time."""
    from PIL import Image

    episodes = ds.episodes[:10] if episodes is None else episodes
    h, w, _ = ds.meta.features[key]["shape"]
    tw, th = thumb_width, max(1, round(thumb_width * h / w))
    sheet = Image.new("RGB", (tw * per_episode, th * len(episodes)), "white")
    for row, ep in enumerate(episodes):
        video = ds.episode_video(ep, key)
        for col, i in enumerate(np.linspace(0, len(video) - 1, per_episode).round().astype(int)):
            sheet.paste(Image.fromarray(video[i]).resize((tw, th)), (col * tw, row * th))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path
