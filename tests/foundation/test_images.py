"""sensor_msgs/Image <-> numpy: round trips and every malformation a node must survive."""

import numpy as np
import pytest
from sensor_msgs.msg import Image

from embodied_stack.ros.images import (
    ImageDecodeError,
    depth_from_image,
    image_to_numpy,
    numpy_to_image,
    rgb_from_image,
)

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("encoding,shape,dtype", [
    ("rgb8", (4, 5, 3), np.uint8), ("bgra8", (4, 5, 4), np.uint8), ("mono8", (4, 5), np.uint8),
    ("16UC1", (4, 5), np.uint16), ("32FC1", (4, 5), np.float32)])
def test_round_trip(encoding, shape, dtype):
    arr = (RNG.random(shape) * 200).astype(dtype)
    assert np.array_equal(image_to_numpy(numpy_to_image(arr, encoding)), arr)


def test_bgr_is_converted_to_rgb():
    rgb = RNG.integers(0, 255, (3, 4, 3), dtype=np.uint8)
    assert np.array_equal(rgb_from_image(numpy_to_image(rgb[..., ::-1], "bgr8")), rgb)


def test_depth_units_and_invalid_pixels():
    mm = np.array([[0, 1500], [250, 65535]], dtype=np.uint16)
    assert np.allclose(depth_from_image(numpy_to_image(mm, "16UC1")), mm * 0.001)
    m = np.array([[np.nan, 1.5], [np.inf, -np.inf]], dtype=np.float32)
    assert np.array_equal(depth_from_image(numpy_to_image(m, "32FC1")), [[0, 1.5], [0, 0]])


def test_padded_rows_are_honoured():
    arr = RNG.integers(0, 255, (3, 4, 3), dtype=np.uint8)
    msg = numpy_to_image(arr, "rgb8")
    padded = np.zeros((3, 16), dtype=np.uint8)
    padded[:, :12] = arr.reshape(3, 12)
    msg.step, msg.data = 16, padded.tobytes()
    assert np.array_equal(image_to_numpy(msg), arr)


@pytest.mark.parametrize("mutate,reason", [
    (lambda m: setattr(m, "encoding", "yuv422"), "unsupported encoding"),
    (lambda m: setattr(m, "step", 3), "step"),
    (lambda m: setattr(m, "data", bytes(10)), r"expected step\*height"),
    (lambda m: setattr(m, "height", 0), "empty image"),
])
def test_malformed_images_raise_with_reason(mutate, reason):
    msg = numpy_to_image(np.zeros((4, 5, 3), np.uint8), "rgb8")
    mutate(msg)
    with pytest.raises(ImageDecodeError, match=reason):
        image_to_numpy(msg)


def test_wrong_kind_of_image_is_rejected():
    with pytest.raises(ImageDecodeError, match="depth"):
        depth_from_image(numpy_to_image(np.zeros((2, 2, 3), np.uint8), "rgb8"))
    with pytest.raises(ImageDecodeError, match="colour"):
        rgb_from_image(numpy_to_image(np.zeros((2, 2), np.uint16), "16UC1"))
    assert isinstance(Image(), Image)
