"""Reading LeRobotDataset v3.0 datasets for training and inspection (numpy in, numpy out).

Why our own reader: ``lerobot`` cannot be installed beside our CPU torch (see
FACTS.md), and training needs only local, random-access reads.

Cost model: numeric columns of the selected episodes are loaded into memory at
construction (small: 100k frames x 20 floats = 8 MB). Camera frames are decoded
per episode on first access and kept in an LRU cache of ``video_cache_episodes``
episodes (an episode of 300 frames at 224x224 is 45 MB per camera). A cache hit costs
microseconds; a miss decodes the whole episode (~1.4 ms per 224x224 frame, so ~0.3 s for
200 frames; ``python bench/dataset_io.py``). Shuffled training over many episodes
decodes an episode per cache miss: either sample episodes in
blocks (see :meth:`LeRobotDataset.episode_frames`), raise the cache, or preload
everything with ``video_cache_episodes=None`` when it fits in memory.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embodied_stack.datasets import format as fmt
from embodied_stack.datasets.format import DatasetError
from embodied_stack.datasets.stats import from_json
from embodied_stack.datasets.video import decode_frames


@dataclass
class DatasetMeta:
    """Metadata of a dataset, limited to committed episodes (``info.json`` is the commit point).

    ``tasks[i]`` is the instruction with ``task_index == i``; ``episodes`` are the episode
    rows without their ``stats/*`` columns; ``stats`` maps feature -> {min, max, mean, std, count}.
    """

    root: Path
    info: dict[str, Any]
    stats: dict[str, dict[str, np.ndarray]]
    tasks: list[str]
    episodes: list[dict[str, Any]]

    @classmethod
    def load(cls, root: str | Path) -> DatasetMeta:
        root = Path(root)
        info = fmt.load_info(root)
        total = int(info["total_episodes"])
        path = root / fmt.EPISODES_DIR
        rows: list[dict[str, Any]] = []
        for file in sorted(path.glob("*/*.parquet")) if path.exists() else []:
            table = pq.read_table(file)
            cols = [c for c in table.column_names if not c.startswith("stats/")]
            rows += table.select(cols).to_pylist()
        rows = sorted((r for r in rows if r["episode_index"] < total), key=lambda r: r["episode_index"])
        if len(rows) != total:
            raise DatasetError(f"{root}: info.json lists {total} episodes but meta/episodes holds "
                               f"{len(rows)}; the metadata is damaged")
        stats_path = root / fmt.STATS_PATH
        stats = from_json(json.loads(stats_path.read_text())) if stats_path.exists() else {}
        return cls(root, info, stats, fmt.load_tasks(root), rows)

    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def features(self) -> dict[str, dict[str, Any]]:
        return self.info["features"]

    @property
    def video_keys(self) -> list[str]:
        return fmt.video_keys(self.features)

    @property
    def total_episodes(self) -> int:
        return int(self.info["total_episodes"])

    @property
    def total_frames(self) -> int:
        return int(self.info["total_frames"])


class LeRobotDataset:
    """Random access to frames of a local LeRobotDataset v3.0.

    ``ds[i]`` is a dict of numpy arrays (feature shapes; images (H, W, 3) uint8) plus
    ``"task"`` (str), ``"timestamp"``, ``"episode_index"``, ``"frame_index"``, ``"index"``
    and ``"task_index"``. Frames are ordered by episode, then frame.

    Args:
        root: dataset folder.
        episodes: episode indices to load (default all), e.g. a train/validation split.
        video_cache_episodes: decoded episodes kept per camera (``None``: keep all).
    """

    def __init__(self, root: str | Path, *, episodes: list[int] | None = None,
                 video_cache_episodes: int | None = 4) -> None:
        self.root = Path(root)
        self.meta = DatasetMeta.load(self.root)
        all_eps = [r["episode_index"] for r in self.meta.episodes]
        self.episodes = list(all_eps) if episodes is None else [int(e) for e in episodes]
        unknown = sorted(set(self.episodes) - set(all_eps))
        if unknown:
            raise DatasetError(f"episodes {unknown} are not in {self.root} (it has 0..{len(all_eps) - 1})")
        self._rows = {r["episode_index"]: r for r in self.meta.episodes}
        self._cache_size = video_cache_episodes
        self._video_cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._load_columns()

    def _load_columns(self) -> None:
        feats = self.meta.features
        self._numeric = [k for k, ft in feats.items() if ft["dtype"] != "video"]
        files = sorted({(self._rows[e]["data/chunk_index"], self._rows[e]["data/file_index"])
                        for e in self.episodes})
        wanted = pa.array(self.episodes, pa.int64())
        tables = []
        for chunk, file in files:
            path = self.root / fmt.DATA_PATH.format(chunk_index=chunk, file_index=file)
            table = pq.read_table(path, columns=self._numeric)
            tables.append(table.filter(pc.is_in(table.column("episode_index"), value_set=wanted)))
        table = pa.concat_tables(tables) if tables else None
        self._columns: dict[str, np.ndarray] = {}
        if table is None:
            self._columns = {k: np.zeros((0, *feats[k]["shape"])) for k in self._numeric}
            self._starts: dict[int, int] = {}
            self._len = 0
            return
        ep = table.column("episode_index").to_numpy()
        fr = table.column("frame_index").to_numpy()
        order_key = {e: i for i, e in enumerate(self.episodes)}
        order = np.lexsort((fr, np.vectorize(order_key.__getitem__)(ep)))
        for key in self._numeric:
            self._columns[key] = fmt.column_to_numpy(table.column(key), feats[key])[order]
        self._starts = {}
        pos = 0
        for e in self.episodes:
            self._starts[e] = pos
            length = int(self._rows[e]["length"])
            got = int(np.count_nonzero(ep == e))
            if got != length:
                raise DatasetError(f"{self.root}: episode {e} has {got} data rows, its metadata says "
                                   f"{length}; run LeRobotDatasetWriter.resume() to repair")
            pos += length
        self._len = pos

    def __len__(self) -> int:
        return self._len

    def episode_frames(self, episode_index: int) -> range:
        """Dataset indices (for ``ds[i]``) of one episode's frames."""
        if episode_index not in self._starts:
            raise DatasetError(f"episode {episode_index} is not loaded (loaded: {self.episodes})")
        start = self._starts[episode_index]
        return range(start, start + int(self._rows[episode_index]["length"]))

    def episode_column(self, episode_index: int, key: str) -> np.ndarray:
        """A numeric feature over one episode, (T, *shape) (no decoding; a view, do not modify)."""
        frames = self.episode_frames(episode_index)
        return self._columns[key][frames.start:frames.stop]

    def episode_video(self, episode_index: int, key: str) -> np.ndarray:
        """All frames of one camera in one episode, (T, H, W, 3) uint8 (decoded once, cached)."""
        cache_key = (key, episode_index)
        if cache_key in self._video_cache:
            self._video_cache.move_to_end(cache_key)
            return self._video_cache[cache_key]
        row = self._rows[episode_index]
        path = self.root / fmt.VIDEO_PATH.format(video_key=key, chunk_index=row[f"videos/{key}/chunk_index"],
                                                 file_index=row[f"videos/{key}/file_index"])
        frames = decode_frames(path, self.meta.fps, row[f"videos/{key}/from_timestamp"],
                               row[f"videos/{key}/to_timestamp"])
        if len(frames) != int(row["length"]):
            raise DatasetError(f"{path} decodes to {len(frames)} frames for episode {episode_index}, "
                               f"expected {row['length']}; the video is damaged (re-record the episode)")
        self._video_cache[cache_key] = frames
        if self._cache_size is not None:
            while len(self._video_cache) > self._cache_size * max(len(self.meta.video_keys), 1):
                self._video_cache.popitem(last=False)
        return frames

    def __getitem__(self, i: int) -> dict[str, Any]:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for a dataset of {n} frames")
        i %= n
        item: dict[str, Any] = {k: v[i] for k, v in self._columns.items()}
        ep = int(item["episode_index"])
        frame = int(item["frame_index"])
        for key in self.meta.video_keys:
            item[key] = self.episode_video(ep, key)[frame]
        item["task"] = self.meta.tasks[int(item["task_index"])]
        return item
