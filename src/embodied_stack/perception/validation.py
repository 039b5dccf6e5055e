"""Checks on sensor input, each failure a :class:`InputRejected` with a reason code.

Why codes: the node counts rejections per reason in its diagnostics and logs the
message; a frame that fails any check is dropped whole, so nothing downstream ever
sees a half-valid frame (a depth image from another resolution, NaN intrinsics...).
Decoding image buffers (encodings, sizes) is ``embodied_stack.ros.images``' job.
"""

from __future__ import annotations

import numpy as np


class InputRejected(ValueError):
    """A frame that cannot be used. ``reason`` is a short code for counters
    (``encoding``, ``size_mismatch``, ``invalid_depth``, ``camera_info``, ``out_of_order``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_intrinsics(k: np.ndarray | list[float], width: int, height: int) -> np.ndarray:
    """Return K as 3x3 float64 if it is a usable pinhole matrix for a ``width`` x ``height`` image."""
    k = np.asarray(k, dtype=np.float64).reshape(-1)
    if k.size != 9 or not np.all(np.isfinite(k)):
        raise InputRejected("camera_info", f"camera intrinsics K={k.tolist()} must be 9 finite numbers")
    k = k.reshape(3, 3)
    if k[0, 0] <= 0 or k[1, 1] <= 0:
        raise InputRejected(
            "camera_info",
            f"camera info has focal lengths fx={k[0, 0]}, fy={k[1, 1]}; "
            "an uncalibrated (all-zero) K cannot back-project depth: publish a calibrated "
            "camera_info",
        )
    if not (0 <= k[0, 2] <= width and 0 <= k[1, 2] <= height):
        raise InputRejected(
            "camera_info",
            f"principal point ({k[0, 2]}, {k[1, 2]}) lies outside the "
            f"{width}x{height} image: camera_info belongs to another resolution",
        )
    return k


def check_rgbd(rgb: np.ndarray, depth_m: np.ndarray, min_valid_fraction: float) -> None:
    """Colour and depth must be registered (same size) and depth must have enough valid pixels."""
    if rgb.shape[:2] != depth_m.shape:
        raise InputRejected(
            "size_mismatch",
            f"colour {rgb.shape[1]}x{rgb.shape[0]} and depth "
            f"{depth_m.shape[1]}x{depth_m.shape[0]} differ; publish depth aligned to "
            "colour (aligned_depth_to_color)",
        )
    valid = np.count_nonzero(np.isfinite(depth_m) & (depth_m > 0)) / max(depth_m.size, 1)
    if valid < min_valid_fraction:
        raise InputRejected(
            "invalid_depth",
            f"only {100 * valid:.1f}% of depth pixels are valid "
            f"(finite and > 0); need {100 * min_valid_fraction:.1f}%",
        )
