"""Writing LeRobotDataset v3.0 datasets episode by episode, crash-safe.

Why this shape: teleoperation, the recorder node and the simulator's scripted experts
all produce demonstrations through this one writer, so VLA training has one data path.

Crash safety (a ``kill -9`` at any moment loses at most the episode being recorded):

* frames of the open episode live in memory (numbers) and in ``<root>/.staging/``
  (stream-encoded MP4s); nothing under ``data/``, ``videos/`` or ``meta/`` refers to them;
* :meth:`LeRobotDatasetWriter.save_episode` moves the episode's MP4s into place, then
  replaces the data parquet, the episodes parquet, ``tasks.parquet`` and ``stats.json``
  each by write-to-temp + fsync + rename, and writes ``meta/info.json`` last: its
  ``total_episodes`` is the commit point;
* readers only trust episodes below ``total_episodes``; :meth:`LeRobotDatasetWriter.resume`
  also deletes what a crash during a save left behind (rows, files, staging), so
  LeRobot's own loader sees a clean dataset too.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embodied_stack.datasets import format as fmt
from embodied_stack.datasets.format import DatasetError
from embodied_stack.datasets.stats import RunningStats, aggregate, to_json
from embodied_stack.datasets.video import VideoEncoder, count_frames

log = logging.getLogger(__name__)


@dataclass
class StreamCount:
    """Frames one stream should have delivered in an episode vs frames that reached disk."""

    expected: int
    written: int

    @property
    def dropped(self) -> int:
        return max(self.expected - self.written, 0)


@dataclass
class EpisodeReport:
    """Frame accounting of one episode, returned by :meth:`LeRobotDatasetWriter.save_episode`.

    ``flagged`` is set when any stream dropped more than the writer's ``max_drop_fraction``
    of its expected frames or a video does not decode to the frame count; flagged
    episodes are saved with ``quality/flagged = True`` in the episode row (or not saved
    at all with ``keep_flagged=False``), never silently kept.
    """

    episode_index: int | None
    length: int
    streams: dict[str, StreamCount]
    flagged: bool
    reasons: list[str] = field(default_factory=list)
    saved: bool = True

    @property
    def expected_frames(self) -> int:
        return max((s.expected for s in self.streams.values()), default=self.length)

    @property
    def dropped_frames(self) -> int:
        return max((s.dropped for s in self.streams.values()), default=0)

    def summary(self) -> str:
        parts = [f"{name}: {s.written}/{s.expected}" for name, s in self.streams.items()]
        state = "FLAGGED" if self.flagged else "ok"
        saved = f"episode {self.episode_index}" if self.saved else "not saved"
        text = f"{saved}, {self.length} frames, {state} ({', '.join(parts)})"
        return text + (f": {'; '.join(self.reasons)}" if self.reasons else "")


def check_storage(root: str | Path, min_free_mb: float = 200.0) -> Path:
    """Fail before recording starts if ``root`` cannot be written or its disk is nearly full.

    Creates ``root`` (and parents) and writes/deletes a probe file there, then checks the
    free space of its file system. Returns the resolved root.
    """
    root = Path(root).expanduser().resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write_probe"
        with open(probe, "wb") as f:
            f.write(b"ok")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as e:
        raise DatasetError(f"cannot write the dataset at {root}: {e.strerror or e}; pick a writable "
                           "folder (--root) or fix its permissions") from e
    free_mb = shutil.disk_usage(root).free / 2**20
    if free_mb < min_free_mb:
        raise DatasetError(f"only {free_mb:.0f} MB free on the disk holding {root} (need at least "
                           f"{min_free_mb:.0f} MB); free space or record elsewhere")
    return root


class LeRobotDatasetWriter:
    """Appends episodes to a LeRobotDataset v3.0 folder.

    Use :meth:`create` for a new dataset and :meth:`resume` to append to an existing one
    (after a crash, too). Per frame call :meth:`add_frame`; end the episode with
    :meth:`save_episode` or :meth:`discard_episode`; :meth:`finalize` (or leaving the
    ``with`` block) discards an unsaved episode and closes the writer.
    """

    def __init__(self, root: Path, info: dict[str, Any], episodes: list[dict[str, Any]],
                 tasks: list[str], *, max_drop_fraction: float, keep_flagged: bool,
                 min_free_mb: float, video_crf: int, video_gop: int) -> None:
        """Not public: use :meth:`create` or :meth:`resume`."""
        if not 0.0 <= max_drop_fraction <= 1.0:
            raise DatasetError(f"max_drop_fraction must be in [0, 1], got {max_drop_fraction}")
        self.root = root
        self.info = info
        self.fps: int = info["fps"]
        self.features = {k: ft for k, ft in info["features"].items() if k not in fmt.DEFAULT_FEATURES}
        self.video_keys = fmt.video_keys(self.features)
        self.numeric_keys = fmt.numeric_keys(self.features)
        self.max_drop_fraction = max_drop_fraction
        self.keep_flagged = keep_flagged
        self.min_free_mb = min_free_mb
        self.video_crf, self.video_gop = video_crf, video_gop
        self._episodes = episodes
        self._tasks = tasks
        self._closed = False
        self._reset_buffer()

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, root: str | Path, fps: int, features: dict[str, dict[str, Any]],
               robot_type: str | None = None, *, max_drop_fraction: float = 0.05,
               keep_flagged: bool = True, min_free_mb: float = 200.0, video_crf: int = 23,
               video_gop: int = 10, data_files_size_in_mb: int = fmt.DEFAULT_DATA_FILE_SIZE_IN_MB,
               chunks_size: int = fmt.DEFAULT_CHUNK_SIZE) -> LeRobotDatasetWriter:
        """Start a new dataset in ``root`` (must not exist or be empty).

        Args:
            fps: frames per second of every stream (Hz); timestamps are ``frame_index / fps``.
            features: ``{name: {"dtype", "shape", "names"}}``; dtype ``"video"`` for cameras
                (shape (H, W, 3)), numpy dtypes otherwise.
            max_drop_fraction: an episode where a stream lost more than this share of its
                expected frames is flagged (0.05: a few late frames are normal on a busy
                machine; more means the data no longer matches the fps).
            keep_flagged: save flagged episodes (marked ``quality/flagged``) or drop them.
            min_free_mb: refuse to start (and to save) with less free disk than this.
            video_crf, video_gop: H.264 quality (lower = better, 23 default) and keyframe
                interval in frames (shorter = faster random access, bigger files).
        """
        if int(fps) != fps or fps <= 0:
            raise DatasetError(f"fps must be a positive integer (LeRobot stores it as int), got {fps}")
        root = Path(root)
        if (root / fmt.INFO_PATH).exists():
            raise DatasetError(f"{root} already holds a dataset; use "
                               f"LeRobotDatasetWriter.resume({str(root)!r}) to append, or choose a "
                               "new folder")
        if root.exists() and any(root.iterdir()):
            raise DatasetError(f"{root} exists and is not empty; choose a new folder for the dataset")
        root = check_storage(root, min_free_mb)
        feats = fmt.validate_features(features)
        for key in fmt.video_keys(feats):
            h, w, _ = feats[key]["shape"]
            feats[key]["info"] = {"video.height": h, "video.width": w, "video.codec": "h264",
                                  "video.pix_fmt": "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p",
                                  "video.is_depth_map": False, "video.fps": int(fps),
                                  "video.channels": 3, "has_audio": False}
        info = fmt.new_info(int(fps), feats, robot_type, chunks_size=chunks_size,
                            data_files_size_in_mb=data_files_size_in_mb)
        fmt.atomic_write_json(root / fmt.INFO_PATH, info)
        info = fmt.load_info(root)
        return cls(root, info, [], [], max_drop_fraction=max_drop_fraction, keep_flagged=keep_flagged,
                   min_free_mb=min_free_mb, video_crf=video_crf, video_gop=video_gop)

    @classmethod
    def resume(cls, root: str | Path, *, features: dict[str, dict[str, Any]] | None = None,
               max_drop_fraction: float = 0.05, keep_flagged: bool = True, min_free_mb: float = 200.0,
               video_crf: int = 23, video_gop: int = 10) -> LeRobotDatasetWriter:
        """Append to an existing dataset, first removing what an interrupted save left behind.

        ``features``, when given, must equal the dataset's (so a recorder configured for
        other cameras cannot silently mix schemas).
        """
        root = check_storage(root, min_free_mb)
        info = fmt.load_info(root)
        if features is not None:
            want = fmt.validate_features(features)
            have = {k: ft for k, ft in info["features"].items() if k not in fmt.DEFAULT_FEATURES}
            diff = sorted(k for k in set(want) | set(have)
                          if k not in want or k not in have
                          or tuple(want[k]["shape"]) != tuple(have[k]["shape"])
                          or want[k]["dtype"] != have[k]["dtype"])
            if diff:
                raise DatasetError(f"features differ from the dataset at {root} for {diff}; record into a "
                                   "new dataset or use the dataset's features")
        episodes = _repair(root, info)
        tasks = fmt.load_tasks(root)
        return cls(root, info, episodes, tasks, max_drop_fraction=max_drop_fraction,
                   keep_flagged=keep_flagged, min_free_mb=min_free_mb, video_crf=video_crf,
                   video_gop=video_gop)

    # ------------------------------------------------------------------ properties
    @property
    def num_episodes(self) -> int:
        return len(self._episodes)

    @property
    def num_frames(self) -> int:
        return int(self.info["total_frames"])

    @property
    def episode_length(self) -> int:
        """Frames added to the episode being recorded."""
        return self._length

    # ------------------------------------------------------------------ recording
    def add_frame(self, frame: Mapping[str, Any], task: str) -> None:
        """Add one frame of the open episode; every feature must be present with its shape.

        Raises ``ValueError`` naming the feature on a missing key or a wrong shape/dtype;
        the episode so far is kept (the bad frame is not added).
        """
        self._check_open()
        if not isinstance(task, str) or not task:
            raise ValueError("task must be a non-empty instruction string, "
                             "e.g. 'put the red cube in the bowl'")
        missing = [k for k in self.features if k not in frame]
        if missing:
            raise ValueError(f"frame is missing features {missing}; expected {list(self.features)}")
        values: dict[str, np.ndarray] = {}
        for key in self.numeric_keys:
            ft = self.features[key]
            v = np.asarray(frame[key])
            shape = tuple(ft["shape"])
            if v.shape != shape and not (shape == (1,) and v.shape == ()):
                raise ValueError(f"feature {key!r}: expected shape {shape}, got {v.shape}")
            if not np.can_cast(v.dtype, np.dtype(ft["dtype"]), casting="same_kind") and v.dtype != bool:
                raise ValueError(f"feature {key!r}: cannot store {v.dtype} as {ft['dtype']}")
            values[key] = v.astype(ft["dtype"]).reshape(shape)
        for key in self.video_keys:
            img = np.asarray(frame[key])
            if img.dtype != np.uint8 or img.shape != tuple(self.features[key]["shape"]):
                raise ValueError(f"feature {key!r}: expected uint8 image {tuple(self.features[key]['shape'])}"
                                 f" (H, W, 3 RGB), got {img.dtype} {img.shape}")
            values[key] = img
        if self._length == 0:  # a previous run's staging files are never part of this episode
            shutil.rmtree(self.root / fmt.STAGING_DIR, ignore_errors=True)
        for key in self.video_keys:
            enc = self._encoders.get(key)
            if enc is None:
                h, w, _ = self.features[key]["shape"]
                enc = VideoEncoder(self.root / fmt.STAGING_DIR / f"{key}.mp4", w, h, self.fps,
                                   crf=self.video_crf, gop=self.video_gop)
                self._encoders[key] = enc
            enc.add(values[key])
            self._stats[key].add(values[key])
        for key in self.numeric_keys:
            self._buffer[key].append(values[key])
            self._stats[key].add(values[key])
        self._frame_tasks.append(task)
        self._length += 1

    def discard_episode(self) -> None:
        """Drop the open episode (nothing of it reaches the dataset)."""
        for enc in self._encoders.values():
            enc.abort()
        shutil.rmtree(self.root / fmt.STAGING_DIR, ignore_errors=True)
        self._reset_buffer()

    def save_episode(self, expected_frames: int | Mapping[str, int] | None = None) -> EpisodeReport:
        """Write the open episode and return its frame accounting.

        Args:
            expected_frames: frames each stream should have delivered (e.g. episode duration
                x fps, from the recorder's clock): one number for all streams or per feature
                name; streams not given are expected to have what was added.
        """
        self._check_open()
        if self._length == 0:
            raise DatasetError("save_episode() with no frames; add frames with add_frame() first "
                               "or call discard_episode()")
        for enc in self._encoders.values():
            enc.close()
        report = self._account(expected_frames)
        if report.flagged:
            log.warning("episode flagged: %s", report.summary())
            if not self.keep_flagged:
                report.saved = False
                report.episode_index = None
                self.discard_episode()
                return report
        free_mb = shutil.disk_usage(self.root).free / 2**20
        if free_mb < self.min_free_mb:
            raise DatasetError(f"only {free_mb:.0f} MB free under {self.root}; the episode is still open "
                               "(free space and call save_episode() again, or discard_episode())")
        self._commit(report)
        self._reset_buffer()
        return report

    def finalize(self) -> None:
        """Discard an unsaved episode and close; the dataset on disk is already complete."""
        if self._closed:
            return
        if self._length:
            log.warning("finalize(): discarding the unsaved episode of %d frames", self._length)
        self.discard_episode()
        self._closed = True

    def __enter__(self) -> LeRobotDatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finalize()

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._closed:
            raise DatasetError("the writer is finalized; open it again with LeRobotDatasetWriter.resume()")

    def _reset_buffer(self) -> None:
        self._length = 0
        self._buffer: dict[str, list[np.ndarray]] = {k: [] for k in self.numeric_keys}
        self._frame_tasks: list[str] = []
        self._encoders: dict[str, VideoEncoder] = {}
        self._stats = {k: RunningStats(is_image=k in self.video_keys) for k in self.features}

    def _account(self, expected_frames: int | Mapping[str, int] | None) -> EpisodeReport:
        streams: dict[str, StreamCount] = {}
        reasons: list[str] = []
        for key in self.features:
            if key in self._encoders:
                written = count_frames(self._encoders[key].path)
                if written != self._length:
                    reasons.append(f"{key}: video holds {written} frames, {self._length} were added")
            else:
                written = self._length
            if isinstance(expected_frames, Mapping):
                expected = int(expected_frames.get(key, self._length))
            elif expected_frames is not None:
                expected = int(expected_frames)
            else:
                expected = self._length
            streams[key] = StreamCount(expected=max(expected, written), written=written)
        if isinstance(expected_frames, Mapping):
            unknown = set(expected_frames) - set(self.features)
            if unknown:
                raise ValueError(f"expected_frames names unknown features {sorted(unknown)}")
        for key, s in streams.items():
            if s.expected and s.dropped / s.expected > self.max_drop_fraction:
                reasons.append(f"{key}: dropped {s.dropped} of {s.expected} frames "
                               f"({100 * s.dropped / s.expected:.1f}% > {100 * self.max_drop_fraction:.1f}%)")
        return EpisodeReport(episode_index=len(self._episodes), length=self._length, streams=streams,
                             flagged=bool(reasons), reasons=reasons)

    def _commit(self, report: EpisodeReport) -> None:
        ep = len(self._episodes)
        n = self._length
        start = int(self.info["total_frames"])
        chunks_size = int(self.info["chunks_size"])
        row: dict[str, Any] = {"episode_index": ep}

        # Tasks: new strings get the next indices.
        frame_task_index = []
        for t in self._frame_tasks:
            if t not in self._tasks:
                self._tasks.append(t)
            frame_task_index.append(self._tasks.index(t))
        row["tasks"] = list(dict.fromkeys(self._frame_tasks))
        row["length"] = n

        # Videos: one new file per episode, placed before anything refers to it.
        prev = self._episodes[-1] if self._episodes else None
        for key in self.video_keys:
            if prev is None:
                chunk, file = 0, 0
            else:
                chunk, file = fmt.update_chunk_file_indices(
                    prev[f"videos/{key}/chunk_index"], prev[f"videos/{key}/file_index"], chunks_size)
            dst = self.root / fmt.VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._encoders[key].path, dst)
            row[f"videos/{key}/chunk_index"] = chunk
            row[f"videos/{key}/file_index"] = file
            row[f"videos/{key}/from_timestamp"] = 0.0
            row[f"videos/{key}/to_timestamp"] = n / self.fps

        # Data: append to the current parquet file (rewrite + rename) until it is full.
        columns: dict[str, pa.Array] = {}
        for key in self.numeric_keys:
            ft = self.features[key]
            arr = np.stack(self._buffer[key])
            columns[key] = _to_arrow(arr, ft)
        frame_index = np.arange(n, dtype=np.int64)
        columns["timestamp"] = pa.array((frame_index / self.fps).astype(np.float32))
        columns["frame_index"] = pa.array(frame_index)
        columns["episode_index"] = pa.array(np.full(n, ep, dtype=np.int64))
        columns["index"] = pa.array(np.arange(start, start + n, dtype=np.int64))
        columns["task_index"] = pa.array(np.asarray(frame_task_index, dtype=np.int64))
        table = pa.table(columns)
        chunk, file = (0, 0) if prev is None else (prev["data/chunk_index"], prev["data/file_index"])
        path = self.root / fmt.DATA_PATH.format(chunk_index=chunk, file_index=file)
        if path.exists() and path.stat().st_size / 2**20 >= self.info["data_files_size_in_mb"]:
            chunk, file = fmt.update_chunk_file_indices(chunk, file, chunks_size)
            path = self.root / fmt.DATA_PATH.format(chunk_index=chunk, file_index=file)
        if path.exists():
            old = pq.read_table(path)
            old = old.filter(pc.less(old.column("episode_index"), ep))
            table = pa.concat_tables([old, table.cast(old.schema)])
        fmt.atomic_write_table(path, table)
        row["data/chunk_index"], row["data/file_index"] = chunk, file
        row["dataset_from_index"], row["dataset_to_index"] = start, start + n

        # Episode row (quality + per-episode stats), then tasks, stats, and info.json last.
        row["meta/episodes/chunk_index"], row["meta/episodes/file_index"] = 0, 0
        row["quality/flagged"] = report.flagged
        row["quality/expected_frames"] = report.expected_frames
        row["quality/dropped_frames"] = report.dropped_frames
        ep_stats = {k: s.result() for k, s in self._stats.items()}
        ep_stats.update(_default_stats(frame_index, ep, start, frame_task_index, self.fps))
        for key, st in ep_stats.items():
            for name, value in st.items():
                row[f"stats/{key}/{name}"] = np.asarray(value).tolist()
        episodes = [*self._episodes, row]
        fmt.atomic_write_table(self.root / fmt.EPISODES_PATH.format(chunk_index=0, file_index=0),
                               pa.Table.from_pylist(episodes))
        fmt.atomic_write_table(self.root / fmt.TASKS_PATH, fmt.tasks_table(self._tasks))
        fmt.atomic_write_json(self.root / fmt.STATS_PATH, to_json(aggregate(_episode_stats(episodes))))
        info = dict(self.info)
        info["total_episodes"] = ep + 1
        info["total_frames"] = start + n
        info["total_tasks"] = len(self._tasks)
        info["splits"] = {"train": f"0:{ep + 1}"}
        fmt.atomic_write_json(self.root / fmt.INFO_PATH, _jsonable_info(info))
        self.info = info
        self._episodes = episodes


def _to_arrow(arr: np.ndarray, ft: dict[str, Any]) -> pa.Array:
    typ = fmt.arrow_type(ft)
    if tuple(ft["shape"]) == (1,):
        return pa.array(arr.reshape(-1), typ)
    flat: pa.Array = pa.array(arr.reshape(-1))
    for dim in reversed(tuple(ft["shape"])):
        flat = pa.FixedSizeListArray.from_arrays(flat, dim)
    return flat


def _default_stats(frame_index: np.ndarray, ep: int, start: int, task_index: list[int],
                   fps: int) -> dict[str, dict[str, np.ndarray]]:
    """Stats of the bookkeeping columns, which LeRobot also keeps."""
    cols = {"timestamp": frame_index / fps, "frame_index": frame_index,
            "episode_index": np.full(len(frame_index), ep), "index": start + frame_index,
            "task_index": np.asarray(task_index)}
    out = {}
    for key, v in cols.items():
        v = np.asarray(v, dtype=np.float64)
        out[key] = {"min": v.min(keepdims=True), "max": v.max(keepdims=True),
                    "mean": v.mean(keepdims=True), "std": v.std(keepdims=True),
                    "count": np.array([len(v)])}
    return out


def _episode_stats(episodes: list[dict[str, Any]]) -> list[dict[str, dict[str, np.ndarray]]]:
    out = []
    for row in episodes:
        st: dict[str, dict[str, np.ndarray]] = {}
        for col, value in row.items():
            if col.startswith("stats/"):
                key, name = col[len("stats/"):].rsplit("/", 1)
                st.setdefault(key, {})[name] = np.asarray(value)
        out.append(st)
    return out


def _jsonable_info(info: dict[str, Any]) -> dict[str, Any]:
    out = dict(info)
    out["features"] = {k: {**ft, "shape": list(ft["shape"])} for k, ft in info["features"].items()}
    return out


def _repair(root: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Bring files in line with ``info.json`` (the commit point) after an interrupted save.

    Returns the committed episode rows. Removes the staging folder, episode rows and data
    rows past ``total_episodes``, and data/video files no committed episode refers to.
    """
    total = int(info["total_episodes"])
    shutil.rmtree(root / fmt.STAGING_DIR, ignore_errors=True)
    ep_path = root / fmt.EPISODES_PATH.format(chunk_index=0, file_index=0)
    rows = pq.read_table(ep_path).to_pylist() if ep_path.exists() else []
    committed = [r for r in rows if r["episode_index"] < total]
    if len(committed) != total:
        raise DatasetError(f"{root}: info.json lists {total} episodes but {ep_path} holds {len(committed)}; "
                           "the metadata is damaged (restore meta/ from a backup)")
    if len(rows) != total:
        log.warning("%s: dropping %d uncommitted episode rows", root, len(rows) - total)
        fmt.atomic_write_table(ep_path, pa.Table.from_pylist(committed))
        fmt.atomic_write_json(root / fmt.STATS_PATH, to_json(aggregate(_episode_stats(committed))))
        fmt.atomic_write_table(root / fmt.TASKS_PATH, fmt.tasks_table(_committed_tasks(root, committed)))
    keep = {root / fmt.DATA_PATH.format(chunk_index=r["data/chunk_index"], file_index=r["data/file_index"])
            for r in committed}
    for key in fmt.video_keys(info["features"]):
        keep |= {root / fmt.VIDEO_PATH.format(video_key=key, chunk_index=r[f"videos/{key}/chunk_index"],
                                              file_index=r[f"videos/{key}/file_index"]) for r in committed}
    for sub, pattern in (("data", "*/*.parquet"), ("videos", "*/*/*.mp4")):
        for path in sorted((root / sub).glob(pattern)) if (root / sub).exists() else []:
            if path not in keep:
                log.warning("removing %s (left by an interrupted save)", path)
                path.unlink()
    for path in sorted(p for p in keep if p.suffix == ".parquet"):
        table = pq.read_table(path)
        mask = pc.less(table.column("episode_index"), total)
        if pc.sum(mask).as_py() != len(table):
            fmt.atomic_write_table(path, table.filter(mask))
    for tmp in root.rglob("*.tmp"):
        tmp.unlink()
    return committed


def _committed_tasks(root: Path, committed: list[dict[str, Any]]) -> list[str]:
    """Task list trimmed to the highest index committed data uses (indices never change)."""
    tasks = fmt.load_tasks(root)
    used = set()
    for r in committed:
        used.update(r["tasks"])
    last = max((i for i, t in enumerate(tasks) if t in used), default=-1)
    return tasks[: last + 1]
