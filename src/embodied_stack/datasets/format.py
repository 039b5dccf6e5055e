"""The LeRobotDataset v3.0 on-disk format: path templates, ``info.json`` and ``tasks.parquet``.

Why a module of its own: the writer, the reader, the CLI and the tests must agree on
every name and template, and the values here are the ones LeRobot reads
(``lerobot/datasets/utils.py`` and ``dataset_metadata.py``, codebase version v3.0)::

    <root>/meta/info.json                  schema, fps, counts, path templates
    <root>/meta/stats.json                 mean/std/min/max/count per feature
    <root>/meta/tasks.parquet              task string (pandas index "task") -> task_index
    <root>/meta/episodes/chunk-000/file-000.parquet   one row per episode
    <root>/data/chunk-XXX/file-YYY.parquet            one row per frame, many episodes per file
    <root>/videos/<key>/chunk-XXX/file-YYY.mp4        frames of video features

Where we choose among what the format allows: every episode's video goes into its own
MP4 (the episode row points at it with ``from_timestamp = 0``), so a finished video is
never rewritten; data parquet files hold many episodes and roll over at
``data_files_size_in_mb``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CODEBASE_VERSION = "v3.0"
DEFAULT_CHUNK_SIZE = 1000  # files per chunk-XXX folder
DEFAULT_DATA_FILE_SIZE_IN_MB = 100
DEFAULT_VIDEO_FILE_SIZE_IN_MB = 500

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
CHUNK_FILE_PATTERN = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = "data/" + CHUNK_FILE_PATTERN + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE_PATTERN + ".mp4"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE_PATTERN + ".parquet"
#: Work area for the episode being recorded; never referenced by metadata.
STAGING_DIR = ".staging"

#: Columns every frame row carries, as LeRobot declares them.
DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": (1,), "names": None},
    "frame_index": {"dtype": "int64", "shape": (1,), "names": None},
    "episode_index": {"dtype": "int64", "shape": (1,), "names": None},
    "index": {"dtype": "int64", "shape": (1,), "names": None},
    "task_index": {"dtype": "int64", "shape": (1,), "names": None},
}

_NUMERIC_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                   "float16", "float32", "float64"}


class DatasetError(RuntimeError):
    """A dataset is unreadable, unwritable or inconsistent; the message names the path and the fix."""


def validate_features(features: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Check user features and return them normalised (tuple shapes, video ``info`` left for later).

    Only numeric arrays and ``video`` (H, W, 3 uint8) are supported; ``image``
    (PNG per frame) is not, because video is what LeRobot records by default and
    what our trainers read.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, ft in features.items():
        if "/" in key:
            raise DatasetError(f"feature name {key!r} contains '/'; LeRobot forbids it (use '.')")
        if key in DEFAULT_FEATURES:
            raise DatasetError(f"feature {key!r} is written automatically; remove it from features")
        dtype = ft.get("dtype")
        shape = tuple(int(s) for s in ft.get("shape", ()))
        if dtype == "video":
            if len(shape) != 3 or shape[2] != 3:
                raise DatasetError(f"video feature {key!r} needs shape (height, width, 3), got {shape}")
        elif dtype not in _NUMERIC_DTYPES:
            raise DatasetError(f"feature {key!r} has dtype {dtype!r}; use 'video' or one of "
                               f"{sorted(_NUMERIC_DTYPES)}")
        elif not shape or any(s <= 0 for s in shape):
            raise DatasetError(f"feature {key!r} needs a non-empty positive shape, got {shape}")
        normalized = dict(ft)
        normalized["shape"] = shape
        normalized.setdefault("names", None)
        out[key] = normalized
    return out


def video_keys(features: dict[str, dict[str, Any]]) -> list[str]:
    return [k for k, ft in features.items() if ft["dtype"] == "video"]


def numeric_keys(features: dict[str, dict[str, Any]]) -> list[str]:
    """User features stored as parquet columns (not the default bookkeeping columns)."""
    return [k for k, ft in features.items() if ft["dtype"] != "video" and k not in DEFAULT_FEATURES]


def new_info(fps: int, features: dict[str, dict[str, Any]], robot_type: str | None,
             chunks_size: int = DEFAULT_CHUNK_SIZE,
             data_files_size_in_mb: int = DEFAULT_DATA_FILE_SIZE_IN_MB,
             video_files_size_in_mb: int = DEFAULT_VIDEO_FILE_SIZE_IN_MB) -> dict[str, Any]:
    """``info.json`` of an empty dataset, with the field set LeRobot v3.0 writes."""
    all_features = {**features, **DEFAULT_FEATURES}
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": 0,
        "total_frames": 0,
        "total_tasks": 0,
        "chunks_size": chunks_size,
        "data_files_size_in_mb": data_files_size_in_mb,
        "video_files_size_in_mb": video_files_size_in_mb,
        "fps": int(fps),
        "splits": {},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if video_keys(features) else None,
        "features": {k: _jsonable_feature(ft) for k, ft in all_features.items()},
    }


def _jsonable_feature(ft: dict[str, Any]) -> dict[str, Any]:
    out = dict(ft)
    out["shape"] = list(ft["shape"])
    return out


def load_info(root: Path) -> dict[str, Any]:
    path = root / INFO_PATH
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DatasetError(f"{root} is not a LeRobot dataset: {path} is missing") from e
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path} is not valid JSON ({e}); restore it from a backup") from e
    version = info.get("codebase_version")
    if version != CODEBASE_VERSION:
        raise DatasetError(f"{root} has codebase_version {version!r}; this reader supports "
                           f"{CODEBASE_VERSION!r} only (convert v2.1 datasets with LeRobot's "
                           "convert_dataset_v21_to_v30)")
    for ft in info["features"].values():
        ft["shape"] = tuple(ft["shape"])
    return info


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file + fsync + rename, so a crash leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=4, ensure_ascii=False) + "\n").encode("utf-8"))


def atomic_write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="snappy")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def tasks_table(tasks: list[str]) -> pa.Table:
    """``meta/tasks.parquet`` as pandas writes LeRobot's DataFrame (index ``task``, column
    ``task_index``), so ``pd.read_parquet`` gives back the task strings as the index."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()),
                      "task": pa.array(tasks, pa.string())})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
             "numpy_type": "int64", "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode",
             "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "embodied_stack"},
        "pandas_version": "2.2.0",
    }
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})


def load_tasks(root: Path) -> list[str]:
    """Task strings ordered by ``task_index``."""
    path = root / TASKS_PATH
    if not path.exists():
        return []
    table = pq.read_table(path)
    index = table.column("task_index").to_pylist()
    names = table.column("task").to_pylist()
    tasks = [""] * len(index)
    for i, name in zip(index, names, strict=True):
        tasks[i] = name
    return tasks


def update_chunk_file_indices(chunk_index: int, file_index: int, chunks_size: int) -> tuple[int, int]:
    """Next (chunk, file) pair: a chunk folder holds ``chunks_size`` files (as in LeRobot)."""
    if file_index == chunks_size - 1:
        return chunk_index + 1, 0
    return chunk_index, file_index + 1


def arrow_type(ft: dict[str, Any]) -> pa.DataType:
    """Parquet column type for a numeric feature, matching HF ``datasets``' encoding:
    shape (1,) is a scalar column, (n,) a fixed-size list, higher ranks nested lists."""
    base = pa.from_numpy_dtype(np.dtype(ft["dtype"]))
    shape = tuple(ft["shape"])
    if shape == (1,):
        return base
    t = base
    for dim in reversed(shape):
        t = pa.list_(t, dim)
    return t


def column_to_numpy(column: pa.ChunkedArray, ft: dict[str, Any]) -> np.ndarray:
    """A parquet column back to an (N, *shape) array."""
    shape = tuple(ft["shape"])
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    dtype = np.dtype(ft["dtype"])
    n = len(arr)
    if shape == (1,):
        return arr.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    flat = arr
    while pa.types.is_fixed_size_list(flat.type) or pa.types.is_list(flat.type):
        flat = flat.flatten()
    return flat.to_numpy(zero_copy_only=False).astype(dtype, copy=False).reshape((n, *shape))
