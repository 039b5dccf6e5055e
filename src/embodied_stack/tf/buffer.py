"""A TF buffer without ROS: static and timestamped transforms, looked up through the tree.

Why our own: tf2 / tf2_ros have no PyPI wheels, and the ROS-free cores (perception,
navigation) need frame lookups too. The ROS side (``embodied_stack.ros.tf``) only feeds this
buffer from /tf and /tf_static.

Semantics follow tf2 where it matters to callers:
- every frame has at most one parent; a transform for a child with a new parent re-parents it;
- ``lookup(target, source)`` returns the pose of ``source`` in ``target`` (it maps points
  given in ``source`` into ``target``), composed through their common ancestor;
- errors name what is missing: an unknown frame (with the known ones), two frames in
  different trees ("could not find a connection between ..."), or a time before the history.
Differences, on purpose: no interpolation. A dynamic link contributes its latest sample at or
before the requested time (``time=None``: its latest sample), so the answer is as old as the
oldest sample used -- that is the stamp the result carries. History per link is kept for
``cache_time_s`` behind its newest sample (tf2's default is 10 s as well).
"""

from __future__ import annotations

import bisect
import threading
import time as _time
from collections.abc import Iterable

import numpy as np

from embodied_stack.tf.transform import Transform


class TransformError(LookupError):
    """A lookup could not be answered; the message says which frame or link and why."""


class FrameNotFoundError(TransformError):
    """A frame nobody has published (tf2's LookupException)."""


class ConnectivityError(TransformError):
    """Both frames exist but no chain of transforms joins them (tf2's ConnectivityException)."""


class ExtrapolationError(TransformError):
    """The requested time is older than every sample of a link on the path."""


class TransformTimeoutError(TransformError):
    """``wait_for_transform`` ran out of time; the message carries the last lookup error."""


class TransformBuffer:
    """Thread-safe store of static and dynamic transforms (fed by a listener thread, read by anyone).

    Args:
        cache_time_s: how much history (s) each dynamic link keeps behind its newest sample.
    """

    def __init__(self, cache_time_s: float = 10.0) -> None:
        if not cache_time_s > 0:
            raise ValueError(f"cache_time_s must be > 0 s, got {cache_time_s}")
        self.cache_time_s = float(cache_time_s)
        self._cond = threading.Condition()
        self._parent: dict[str, str] = {}  # child -> parent
        self._static: dict[str, Transform] = {}  # child -> transform
        self._history: dict[str, list[Transform]] = {}  # child -> samples sorted by stamp

    # --- writing --------------------------------------------------------------------------------
    def set_transform(self, transform: Transform, static: bool = False) -> None:
        """Add one transform. Dynamic ones need a stamp (s); static ones are valid at all times."""
        if not static and transform.stamp is None:
            raise ValueError(f"dynamic transform {transform.parent} -> {transform.child} has no stamp; "
                             "give it one (s) or add it with static=True")
        child = transform.child
        if transform.parent == child:
            raise ValueError(f"transform from '{child}' to itself: a frame cannot be its own parent (tf2 "
                             "rejects it too); fix the publisher's frame ids")
        with self._cond:
            if self._parent.get(child) != transform.parent or (child in self._static) != static:
                self._static.pop(child, None)  # re-parented, or static <-> dynamic: start over
                self._history.pop(child, None)
                self._parent[child] = transform.parent
            if static:
                self._static[child] = transform.with_stamp(None)
            else:
                samples = self._history.setdefault(child, [])
                stamps = [t.stamp for t in samples]
                i = bisect.bisect_right(stamps, transform.stamp)
                if i > 0 and stamps[i - 1] == transform.stamp:
                    samples[i - 1] = transform  # same stamp again: the newer message wins
                else:
                    samples.insert(i, transform)
                horizon = samples[-1].stamp - self.cache_time_s  # type: ignore[operator]
                while len(samples) > 1 and samples[0].stamp < horizon:  # type: ignore[operator]
                    samples.pop(0)
            self._cond.notify_all()

    def set_transforms(self, transforms: Iterable[Transform], static: bool = False) -> None:
        for t in transforms:
            self.set_transform(t, static=static)

    def clear(self) -> None:
        """Forget everything (e.g. after the simulation was reset and time jumped back)."""
        with self._cond:
            self._parent.clear()
            self._static.clear()
            self._history.clear()

    # --- reading --------------------------------------------------------------------------------
    def frames(self) -> list[str]:
        """Every frame known, as parent or child, sorted."""
        with self._cond:
            return sorted(set(self._parent) | set(self._parent.values()))

    def lookup(self, target: str, source: str, time: float | None = None) -> Transform:
        """Pose of ``source`` in ``target`` (parent=target, child=source) at ``time`` (s; None = latest).

        Raises FrameNotFoundError, ConnectivityError or ExtrapolationError, each naming the frame or
        link at fault and how to fix it.
        """
        with self._cond:
            return self._lookup_locked(target, source, time)

    def can_transform(self, target: str, source: str, time: float | None = None) -> bool:
        try:
            self.lookup(target, source, time)
        except TransformError:
            return False
        return True

    def wait_for_transform(self, target: str, source: str, timeout_s: float,
                           time: float | None = None) -> Transform:
        """:meth:`lookup`, waiting up to ``timeout_s`` for the transforms to arrive (another thread
        must be feeding the buffer, e.g. a listener spun by a multithreaded executor)."""
        deadline = _time.monotonic() + timeout_s
        with self._cond:
            while True:
                try:
                    return self._lookup_locked(target, source, time)
                except TransformError as e:
                    remaining = deadline - _time.monotonic()
                    if remaining <= 0:
                        raise TransformTimeoutError(
                            f"no transform {target} <- {source} within {timeout_s} s: {e}") from e
                    self._cond.wait(remaining)

    # --- internals ------------------------------------------------------------------------------
    def _chain(self, frame: str) -> list[str]:
        """``frame`` and its ancestors up to the root of its tree."""
        chain = [frame]
        while chain[-1] in self._parent:
            parent = self._parent[chain[-1]]
            if parent in chain:
                raise ConnectivityError(f"frames {chain + [parent]} form a loop; a TF tree gives each frame "
                                        "one parent: fix the publisher of one of these transforms")
            chain.append(parent)
        return chain

    def _link(self, child: str, time: float | None) -> Transform:
        if child in self._static:
            return self._static[child]
        samples = self._history[child]
        if time is None:
            return samples[-1]
        i = bisect.bisect_right([t.stamp for t in samples], time)
        if i == 0:
            raise ExtrapolationError(
                f"lookup of '{child}' in '{self._parent[child]}' at t={time:.6f} s would need extrapolation "
                f"into the past: its oldest sample is at t={samples[0].stamp:.6f} s (history kept: "
                f"{self.cache_time_s} s); ask for a later time or time=None (latest)")
        return samples[i - 1]

    def _lookup_locked(self, target: str, source: str, time: float | None) -> Transform:
        known = set(self._parent) | set(self._parent.values())
        for frame in (target, source):
            if frame not in known:
                raise FrameNotFoundError(f"frame '{frame}' does not exist (nothing has published it); "
                                         f"known frames: {sorted(known)}")
        if target == source:
            return Transform.identity(target, source)
        up_source, up_target = self._chain(source), self._chain(target)
        common = next((f for f in up_source if f in set(up_target)), None)
        if common is None:
            raise ConnectivityError(
                f"could not find a connection between '{target}' and '{source}' because they are not part of "
                f"the same tree: '{source}' leads up to '{up_source[-1]}' and '{target}' up to "
                f"'{up_target[-1]}'; publish a transform that joins them "
                f"(e.g. {up_target[-1]} -> {up_source[-1]})")
        stamps: list[float] = []

        def down_to(chain: list[str]) -> np.ndarray:
            """Pose of ``chain[0]`` in ``common`` along ``chain`` (frame, its parent, ..., common, ...)."""
            m = np.eye(4)
            for child in reversed(chain[:chain.index(common)]):
                link = self._link(child, time)
                if link.stamp is not None:
                    stamps.append(link.stamp)
                m = m @ link.matrix()
            return m

        m = np.linalg.inv(down_to(up_target)) @ down_to(up_source)
        return Transform.from_matrix(target, source, m, min(stamps) if stamps else None)
