"""Asynchronous policy execution: inference in a worker, commands at the control rate.

Why a ROS-free runner: the safety rules of the policy node (no command on stale,
invalid or missing input; stop the moment a goal is cancelled; clamp every
command) are decided here, in plain Python, so tests exercise them without DDS.

Timing: observation ``i`` is tagged with the control step current when it
arrived; the chunk predicted from it covers steps ``i .. i+K-1``. Inference runs
in a worker thread, so a slow forward pass never delays a control tick: the tick
uses whatever chunks already cover the step (ACT temporal ensembling), and when
none does - or the inputs are stale - it returns ``None`` and the caller sends no
command (the robot holds its last target).

Provenance: every chunk remembers the newest camera image it was inferred from (its
receipt time, and the capture stamp the driver wrote in the header), so the node can
measure camera->command latency and tick early when a chunk from a newer image lands
(``fresher_chunk_ready``) instead of letting it wait for the next timer period.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embodied_stack.hardware import JointCommand
from embodied_stack.vla.policy import InvalidObservation, TemporalEnsembler

Predict = Callable[[dict[str, np.ndarray], np.ndarray, str], np.ndarray]
#: called by the worker after it added a chunk (argument: that chunk's provenance).
OnChunk = Callable[["ChunkSource"], None]


@dataclass(frozen=True)
class ChunkSource:
    """Where a chunk came from: the control step it starts at; when the newest and the oldest
    of its camera images were received (runner clock); and the newest one's capture stamp (the
    image header, wall-clock seconds; None when the images carried no stamp)."""

    step: int
    image_received: float
    oldest_received: float
    image_stamp: float | None


@dataclass
class RunnerConfig:
    """Limits and rates. ``action_space`` is the checkpoint's: "joint_position" actions are
    absolute joint targets; "native" ones are deltas of the joint *targets* scaled by
    ``max_joint_delta`` (the tabletop env's action). Both carry an absolute gripper (-1..1)."""

    joint_lower: np.ndarray
    joint_upper: np.ndarray
    control_rate_hz: float = 25.0
    #: an image or joint state older than this stops commanding (s).
    max_input_age_s: float = 0.25
    #: rad per control step that a full +-1 action moves a joint target.
    max_joint_delta: float = 0.08
    #: a target never leaves the measured position by more than this (rad).
    max_step_rad: float = 0.25
    chunk_size: int = 8
    action_dim: int = 6
    action_space: str = "native"


class PolicyRunner:
    def __init__(self, predict: Predict, cfg: RunnerConfig) -> None:
        self.predict = predict
        self.cfg = cfg
        self.ens = TemporalEnsembler(cfg.chunk_size, cfg.action_dim)
        self._lock = threading.Lock()
        self._new_obs = threading.Event()
        self._frame_cams: set[str] = set()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.instruction: str | None = None
        self.step = 0
        self.targets: np.ndarray | None = None
        self.last_error = ""
        self._images: dict[str, np.ndarray] = {}
        self._image_stamp: dict[str, float] = {}
        self._state: np.ndarray | None = None
        self._state_stamp = -np.inf
        self._obs_version = 0
        self._source_stamp: dict[str, float | None] = {}
        #: provenance of the chunks in ``ens``, oldest first, pruned like the ensembler's.
        self._sources: list[ChunkSource] = []
        #: image receipt time behind the last command (None: no command since start/cancel).
        self._commanded_received: float | None = None
        #: predict() durations of the last chunks (s), for diagnostics.
        self.infer_seconds: deque[float] = deque(maxlen=200)
        #: provenance of the last chunk the worker added.
        self.last_chunk: ChunkSource | None = None

    # --- goal ---------------------------------------------------------------------------
    def start(self, instruction: str) -> None:
        """Begin executing ``instruction`` from the current measured state."""
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError("instruction must be a non-empty string, e.g. 'put the red cube in the bowl'")
        with self._lock:
            self.instruction = instruction
            self.step, self.targets = 0, None
            self._reset_chunks()
        self._new_obs.set()  # infer from the newest inputs now, not at the next camera frame

    def cancel(self) -> None:
        """Stop immediately: the next tick returns None and no chunk in flight is used."""
        with self._lock:
            self.instruction = None
            self._reset_chunks()
            self.targets = None

    @property
    def active(self) -> bool:
        return self.instruction is not None

    def _reset_chunks(self) -> None:
        """Forget every chunk and its provenance (caller holds the lock)."""
        self.ens.reset()
        self._sources = []
        self._commanded_received = None

    # --- inputs -------------------------------------------------------------------------
    def observe_image(self, camera: str, image: np.ndarray, stamp: float,
                      source_stamp: float | None = None) -> None:
        """``stamp``: receipt time on the runner's clock (freshness); ``source_stamp``: the
        capture time from the image header (wall-clock s), only carried along for latency."""
        with self._lock:
            self._images[camera], self._image_stamp[camera] = image, stamp
            self._source_stamp[camera] = source_stamp
            self._obs_version += 1
        if self._new_frame(camera):
            self._new_obs.set()

    def observe_state(self, state: np.ndarray, stamp: float) -> None:
        """Joint states only update the state the next inference uses; they never trigger one
        (at 30-50 Hz they would triple the inference rate for no new visual information)."""
        with self._lock:
            self._state, self._state_stamp = np.asarray(state, dtype=np.float64), stamp
            self._obs_version += 1
            first = not self._images
        if first:
            self._new_obs.set()  # state-only policies (no camera yet seen): keep inferring

    def _new_frame(self, camera: str) -> bool:
        """True once every camera seen so far has delivered an image since the last trigger: one
        inference per camera frame, not one per image (the worker holds the GIL while it infers)."""
        with self._lock:
            self._frame_cams.add(camera)
            if self._frame_cams >= set(self._images):
                self._frame_cams = set()
                return True
            return False

    def _fresh(self, now: float) -> str:
        """'' when every input is fresh, else the reason it is not."""
        age = now - self._state_stamp
        if self._state is None or age > self.cfg.max_input_age_s:
            return f"joint state is {age:.3f} s old (limit {self.cfg.max_input_age_s} s)"
        for cam, stamp in self._image_stamp.items():
            if now - stamp > self.cfg.max_input_age_s:
                return f"camera {cam!r} image is {now - stamp:.3f} s old (limit {self.cfg.max_input_age_s} s)"
        return ""

    # --- inference ----------------------------------------------------------------------
    def infer_once(self, now: float) -> bool:
        """Predict one chunk from the newest inputs (the worker's body; tests call it directly).
        Returns False (and records why) when the inputs are stale or invalid."""
        with self._lock:
            if self.instruction is None:
                return False
            stale = self._fresh(now)
            if stale:
                self.last_error = stale
                return False
            images, state = dict(self._images), self._state.astype(np.float32)
            step, instruction, version = self.step, self.instruction, self._obs_version
            source = self._newest_image_source(step)
        began = time.perf_counter()
        try:
            chunk = self.predict(images, state, instruction)
        except InvalidObservation as e:
            with self._lock:
                self.last_error = str(e)
                self._reset_chunks()  # never blend old chunks across invalid input
            return False
        self.infer_seconds.append(time.perf_counter() - began)
        with self._lock:
            if self.instruction != instruction or self._obs_version < version:
                return False  # cancelled or restarted while predicting
            self.ens.add(step, chunk)
            self._sources = [s for s in self._sources if s.step > step - self.cfg.chunk_size] + [source]
            self.last_error = ""
            self.last_chunk = source
        return True

    def _newest_image_source(self, step: int) -> ChunkSource:
        """Provenance of a chunk predicted now from the current images (caller holds the lock)."""
        received = self._image_stamp.values()
        stamps = [s for s in self._source_stamp.values() if s is not None]
        return ChunkSource(step, max(received, default=-np.inf), min(received, default=-np.inf),
                           max(stamps) if stamps else None)

    def _dominant_source(self, step: int) -> ChunkSource | None:
        """The newest chunk covering ``step`` (the one the command mostly reflects), or None."""
        for src in reversed(self._sources):
            if 0 <= step - src.step < self.cfg.chunk_size:
                return src
        return None

    def fresher_chunk_ready(self) -> bool:
        """True when the newest chunk covering the current step was inferred from images that
        are *all* newer than every image behind the last command: ticking now gets a new frame
        to the robot without waiting for the timer. "All": with several cameras, a chunk from
        the first camera's new image and the others' old ones would tick early, and the next
        camera's image would make a second one, soon after."""
        with self._lock:
            if self.instruction is None:
                return False
            src = self._dominant_source(self.step)
            if src is None:
                return False
            return self._commanded_received is None or src.oldest_received > self._commanded_received

    def start_worker(self, clock: Callable[[], float], on_chunk: OnChunk | None = None) -> None:
        """Run inference on every new observation in a thread; ``on_chunk`` is called from that
        thread after each chunk is added (the node uses it to tick as soon as a chunk lands)."""
        def loop() -> None:
            while not self._stop.is_set():
                if self._new_obs.wait(timeout=0.05):
                    self._new_obs.clear()
                    if self.infer_once(clock()) and on_chunk is not None:
                        on_chunk(self.last_chunk)

        self._stop.clear()
        self._worker = threading.Thread(target=loop, name="vla-inference", daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=2.0)
            self._worker = None

    # --- control ------------------------------------------------------------------------
    def tick(self, now: float) -> JointCommand | None:
        """The command for this control period, or None (send nothing: hold)."""
        return self.tick_with_source(now)[0]

    def tick_with_source(self, now: float) -> tuple[JointCommand | None, ChunkSource | None]:
        """``tick`` plus the provenance of the newest chunk behind the command (None with no
        command), so the caller can measure camera->command latency."""
        with self._lock:
            if self.instruction is None:
                return None, None
            stale = self._fresh(now)
            if stale:
                self.last_error = stale
                self._reset_chunks()
                self.targets = None
                return None, None
            action = self.ens.action(self.step)
            if action is None or not np.all(np.isfinite(action)):
                return None, None
            source = self._dominant_source(self.step)
            n = len(self.cfg.joint_lower)  # arm joints of the robot description; then the gripper
            measured = self._state[:n]
            if self.cfg.action_space == "joint_position":
                targets = np.asarray(action[:n], dtype=np.float64)
            else:
                base = measured if self.targets is None else self.targets
                targets = base + np.clip(action[:n], -1.0, 1.0) * self.cfg.max_joint_delta
            targets = np.clip(targets, measured - self.cfg.max_step_rad, measured + self.cfg.max_step_rad)
            targets = np.clip(targets, self.cfg.joint_lower, self.cfg.joint_upper)
            self.targets = targets
            self.step += 1
            if source is not None:
                self._commanded_received = source.image_received
            gripper = float(np.clip(0.5 * (action[n] + 1.0), 0.0, 1.0))
            return JointCommand(positions=targets.copy(), gripper=gripper), source
