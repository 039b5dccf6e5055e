"""sensor_msgs/Image <-> numpy without cv_bridge (not available as a Jazzy wheel).

Decoding validates everything a malformed message can get wrong (encoding, size,
step, buffer length) and raises :class:`ImageDecodeError` naming the problem, so a
node can log it and drop the frame instead of crashing or producing garbage.
"""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import Image

# encoding -> (dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}


class ImageDecodeError(ValueError):
    """The Image message cannot be decoded; the message says why."""


def image_to_numpy(msg: Image) -> np.ndarray:
    """HxW (1 channel) or HxWxC array view of ``msg.data`` (copied if byte order differs)."""
    if msg.encoding not in ENCODINGS:
        raise ImageDecodeError(f"unsupported encoding '{msg.encoding}' (supported: {sorted(ENCODINGS)})")
    dtype, channels = ENCODINGS[msg.encoding]
    if msg.height == 0 or msg.width == 0:
        raise ImageDecodeError(f"empty image {msg.width}x{msg.height}")
    row = msg.width * channels * dtype.itemsize
    if msg.step < row:
        raise ImageDecodeError(f"step {msg.step} < width*channels*itemsize = {row}")
    data = msg.data
    buf = np.frombuffer(data.tobytes() if hasattr(data, "tobytes") else bytes(data), dtype=np.uint8)
    if buf.size < msg.step * msg.height:
        raise ImageDecodeError(f"data has {buf.size} bytes, expected step*height = {msg.step * msg.height}")
    rows = buf[: msg.step * msg.height].reshape(msg.height, msg.step)[:, :row]
    arr = np.ascontiguousarray(rows).view(dtype.newbyteorder(">" if msg.is_bigendian else "<"))
    arr = arr.astype(dtype, copy=False)
    if channels == 1:
        return arr.reshape(msg.height, msg.width)
    return arr.reshape(msg.height, msg.width, channels)


def rgb_from_image(msg: Image) -> np.ndarray:
    """HxWx3 uint8 RGB from any colour encoding we support."""
    arr = image_to_numpy(msg)
    if msg.encoding in ("rgb8", "rgba8"):
        return arr[..., :3]
    if msg.encoding in ("bgr8", "bgra8"):
        return arr[..., 2::-1]
    raise ImageDecodeError(f"expected a colour image, got encoding '{msg.encoding}'")


def depth_from_image(msg: Image) -> np.ndarray:
    """HxW float32 metres from ``16UC1`` (mm) or ``32FC1`` (m); invalid pixels (0, NaN,
    inf) become 0 so downstream code has one notion of 'no depth'."""
    arr = image_to_numpy(msg)
    if msg.encoding in ("16UC1", "mono16"):
        return arr.astype(np.float32) * 0.001
    if msg.encoding == "32FC1":
        out = arr.astype(np.float32, copy=True)
        out[~np.isfinite(out)] = 0.0
        return out
    raise ImageDecodeError(f"expected a depth image (16UC1 or 32FC1), got '{msg.encoding}'")


def numpy_to_image(arr: np.ndarray, encoding: str, header=None) -> Image:
    """Build an Image from a contiguous array whose dtype/channels match ``encoding``."""
    if encoding not in ENCODINGS:
        raise ImageDecodeError(f"unsupported encoding '{encoding}' (supported: {sorted(ENCODINGS)})")
    dtype, channels = ENCODINGS[encoding]
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if (channels == 1 and arr.ndim != 2) or (channels > 1 and (arr.ndim != 3 or arr.shape[2] != channels)):
        raise ImageDecodeError(f"array of shape {arr.shape} does not match encoding '{encoding}'")
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(arr.shape[0]), int(arr.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = msg.width * channels * dtype.itemsize
    msg.data = arr.tobytes()
    return msg
