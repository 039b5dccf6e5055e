"""Episode control and frame accounting on top of the dataset writer (ROS-free).

Why separate from the node: the same recorder runs behind the ROS node, the browser
console and tests, fed with plain numpy samples and timestamps.

States: ``idle`` -> :meth:`Recorder.start` -> ``recording`` -> :meth:`Recorder.stop`
(save) / :meth:`Recorder.discard` (drop) -> ``idle``. :meth:`Recorder.rerecord` drops
the current episode and starts it again with the same task; :meth:`Recorder.next_episode`
saves it and starts the next one. Every saved episode comes with an
:class:`~embodied_stack.datasets.EpisodeReport` (expected vs written frames per stream;
flagged when drops exceed the threshold).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embodied_stack.datasets import (
    DatasetError,
    EpisodeReport,
    LeRobotDatasetWriter,
    StreamCount,
    check_storage,
)
from embodied_stack.recording.aligner import StreamAligner

log = logging.getLogger(__name__)


@dataclass
class StreamSpec:
    """One recorded stream = one dataset feature.

    Attributes:
        key: feature name (``observation.state``, ``observation.images.<camera>``, ``action``).
        dtype: ``"video"`` for cameras (uint8 H x W x 3), else a numpy dtype (``float32``).
        shape: feature shape; (H, W, 3) for cameras.
        names: element names (joint names) or None.
        max_age_s: oldest sample (s) that may fill a frame; None: 1.5 frame periods.
    """

    key: str
    dtype: str
    shape: tuple[int, ...]
    names: list[str] | None = None
    max_age_s: float | None = None

    def feature(self) -> dict[str, Any]:
        names = self.names
        if self.dtype == "video" and names is None:
            names = ["height", "width", "channels"]
        return {"dtype": self.dtype, "shape": tuple(self.shape), "names": names}


@dataclass
class RecorderConfig:
    """Where and how to record. See ``config/nodes/recorder.yaml`` for the node's values.

    Attributes:
        root: dataset folder. fps: frames per second (int, LeRobot stores it so).
        resume: append to an existing dataset at ``root`` (else it must not exist).
        delay_s: frames are decided this long after their time (s), so late samples count.
        max_drop_fraction: an episode where a stream missed more than this share of frames
            is flagged. keep_flagged: save flagged episodes (marked) or drop them.
        min_free_mb: refuse to start with less free disk (MB).
        default_task: instruction used when none was given.
    """

    root: str
    fps: int
    streams: list[StreamSpec]
    robot_type: str | None = None
    resume: bool = False
    delay_s: float = 0.1
    max_drop_fraction: float = 0.05
    keep_flagged: bool = True
    min_free_mb: float = 500.0
    default_task: str = ""
    max_episode_s: float = 0.0  # > 0: stop (save) automatically after this long
    video_crf: int = 23
    extra: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Thread-safe recorder: producers call :meth:`push`, a clock calls :meth:`tick`."""

    def __init__(self, config: RecorderConfig) -> None:
        if not config.streams:
            raise DatasetError("the recorder needs at least one stream (config 'streams')")
        self.config = config
        features = {s.key: s.feature() for s in config.streams}
        self._specs = {s.key: s for s in config.streams}
        root = Path(config.root).expanduser()
        check_storage(root.parent if not root.exists() else root, config.min_free_mb)
        kwargs = dict(max_drop_fraction=config.max_drop_fraction, keep_flagged=config.keep_flagged,
                      min_free_mb=config.min_free_mb, video_crf=config.video_crf)
        if config.resume and (root / "meta/info.json").exists():
            self.writer = LeRobotDatasetWriter.resume(root, features=features, **kwargs)
        else:
            self.writer = LeRobotDatasetWriter.create(root, fps=config.fps, features=features,
                                                      robot_type=config.robot_type, **kwargs)
        period = 1.0 / config.fps
        self.aligner = StreamAligner(
            config.fps, {s.key: s.max_age_s or 1.5 * period for s in config.streams}, delay_s=config.delay_s)
        self._lock = threading.RLock()
        self.task = config.default_task
        self.reports: list[EpisodeReport] = []
        self._episode_start: float | None = None

    # ------------------------------------------------------------------ inputs
    def push(self, key: str, stamp: float, value: Any) -> None:
        """A sample of stream ``key`` stamped ``stamp`` (s). Samples of a wrong shape are
        counted as rejected (they show up in the episode report), never written."""
        spec = self._specs.get(key)
        if spec is None:
            raise KeyError(f"unknown stream {key!r}; configured: {list(self._specs)}")
        arr = np.asarray(value)
        ok = arr.shape == tuple(spec.shape) and (spec.dtype != "video" or arr.dtype == np.uint8)
        with self._lock:
            if ok:
                self.aligner.push(key, stamp, arr)
            else:
                self.aligner.reject(key)
                log.warning("stream %s: rejected a sample of %s %s (expected %s)", key, arr.dtype,
                            arr.shape, spec.shape)

    def set_task(self, task: str) -> None:
        """Instruction for the next episodes (and the current one, from the next frame on)."""
        with self._lock:
            self.task = task.strip()

    # ------------------------------------------------------------------ clock
    def tick(self, now: float) -> int:
        """Write every frame due by ``now`` (s, same clock as the stamps); returns how many."""
        with self._lock:
            written = 0
            for _, _, values in self.aligner.poll(now):
                if values is not None:
                    self.writer.add_frame(values, task=self.task)
                    written += 1
            limit = self.config.max_episode_s
            if limit > 0 and self._episode_start is not None and now - self._episode_start >= limit:
                self.stop(self._episode_start + limit - 0.5 / self.config.fps)
            return written

    # ------------------------------------------------------------------ episode control
    @property
    def state(self) -> str:
        return "recording" if self.aligner.running else "idle"

    def start(self, now: float, task: str | None = None) -> None:
        """Start an episode whose first frame is at ``now``."""
        with self._lock:
            if task is not None:
                self.set_task(task)
            if not self.task:
                raise DatasetError("no task instruction set; publish one on the instruction topic or "
                                   "pass task=... (e.g. 'put the red cube in the bowl')")
            if self.aligner.running:
                raise DatasetError("already recording; stop, discard or re-record first")
            check_storage(self.writer.root, self.config.min_free_mb)
            self.aligner.start(now)
            self._episode_start = now

    def stop(self, now: float | None = None) -> EpisodeReport:
        """End the episode, write the frames due by ``now`` and save it; returns the report."""
        with self._lock:
            self._require_recording()
            if now is not None:
                self._flush(now)
            return self._save()

    def discard(self) -> None:
        with self._lock:
            self._require_recording()
            self.aligner.stop()
            self._episode_start = None
            self.writer.discard_episode()

    def rerecord(self, now: float) -> None:
        """Drop the current episode and start it again (same task)."""
        with self._lock:
            self.discard()
            self.start(now)

    def next_episode(self, now: float, task: str | None = None) -> EpisodeReport:
        """Save the current episode and start the next one at ``now``."""
        with self._lock:
            report = self.stop(now)
            self.start(now, task)
            return report

    def close(self) -> None:
        """Discard an unsaved episode and close the writer (saved episodes are on disk)."""
        with self._lock:
            self.aligner.stop()
            self._episode_start = None
            self.writer.finalize()

    def status(self) -> dict[str, Any]:
        """Counts for UIs: state, task, episodes, frames of the open episode, per-stream stats."""
        with self._lock:
            return {
                "state": self.state,
                "task": self.task,
                "episodes": self.writer.num_episodes,
                "episode_frames": self.writer.episode_length,
                "expected_frames": self.aligner.frames_expected,
                "streams": {k: vars(v).copy() for k, v in self.aligner.stream_stats().items()},
                "last_report": self.reports[-1].summary() if self.reports else None,
            }

    # ------------------------------------------------------------------ internals
    def _require_recording(self) -> None:
        if not self.aligner.running:
            raise DatasetError("not recording; start an episode first")

    def _flush(self, now: float) -> None:
        """Decide all frames before ``now`` without waiting for the delay (the episode ends)."""
        for _, _, values in self.aligner.poll(now - 1e-6, final=True):
            if values is not None:
                self.writer.add_frame(values, task=self.task)

    def _save(self) -> EpisodeReport:
        expected = self.aligner.frames_expected
        stats = self.aligner.stream_stats()
        self.aligner.stop()
        self._episode_start = None
        if self.writer.episode_length == 0:
            self.writer.discard_episode()
            report = EpisodeReport(episode_index=None, length=0, flagged=True, saved=False,
                                   streams={k: StreamCount(expected, 0) for k in stats},
                                   reasons=["no complete frame was recorded; missing per stream: "
                                            + ", ".join(f"{k}={s.missing}" for k, s in stats.items())])
        else:
            # A frame lost because one stream had no fresh sample is charged to that stream only,
            # so the report names the culprit (camera gap vs. joint-state gap).
            written = self.writer.episode_length
            report = self.writer.save_episode(
                expected_frames={k: written + s.missing for k, s in stats.items()})
            missing = {k: s.missing for k, s in stats.items() if s.missing or s.rejected}
            if missing:
                report.reasons.append("frames without a fresh sample per stream: " + ", ".join(
                    f"{k}={s.missing} (rejected {s.rejected})" for k, s in stats.items() if k in missing))
        (log.warning if report.flagged else log.info)("episode: %s", report.summary())
        self.reports.append(report)
        return report
