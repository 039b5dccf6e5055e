"""Raw-topic MCAP bags (ROS 2 ``ros2msg`` schema, CDR payloads), readable by ``ros2 bag``,
Foxglove and ``mcap-ros2-support``.

Why alongside the dataset: the dataset keeps what training needs, resampled at fps;
the bag keeps every message as it arrived, for debugging and re-processing. Payloads
are the CDR bytes rclpy already serialized (``rclpy.serialization.serialize_message``),
so this module itself needs no rclpy: the schema text is assembled from the ``.msg``
files installed under ``<prefix>/share/<package>/msg``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mcap.writer import CompressionType, Writer

_SEPARATOR = "=" * 80
_PRIMITIVES = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32",
               "uint32", "int64", "uint64", "string", "wstring"}


def _msg_file(datatype: str, prefixes: list[Path]) -> Path:
    pkg, _, name = datatype.replace("/msg/", "/").partition("/")
    for prefix in prefixes:
        path = prefix / "share" / pkg / "msg" / f"{name}.msg"
        if path.exists():
            return path
    raise FileNotFoundError(f"no definition for {datatype} under {[str(p) for p in prefixes]} "
                            f"(install ros-jazzy-{pkg.replace('_', '-')})")


def message_definition(datatype: str, prefixes: list[Path] | None = None) -> str:
    """The ``ros2msg`` schema text of ``datatype`` (``pkg/msg/Type``) with its dependencies,
    in the layout rosbag2 writes (each dependency after a line of '=' and ``MSG: pkg/Type``)."""
    prefixes = prefixes or [Path(sys.prefix)]
    seen: list[str] = []
    parts: list[str] = []

    def visit(dt: str, top: bool) -> None:
        pkg = dt.split("/")[0]
        text = _msg_file(dt, prefixes).read_text()
        if not top:
            parts.append(f"{_SEPARATOR}\nMSG: {pkg}/{dt.split('/')[-1]}\n{text}")
        else:
            parts.insert(0, text)
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or "=" in line.split()[0]:
                continue
            ftype = re.sub(r"(\[.*\]|<=\d+)", "", line.split()[0])
            if ftype in _PRIMITIVES:
                continue
            dep = ftype if "/" in ftype else f"{pkg}/{ftype}"
            dep = dep if "/msg/" in dep else dep.replace("/", "/msg/", 1)
            if dep not in seen:
                seen.append(dep)
                visit(dep, False)

    visit(datatype if "/msg/" in datatype else datatype.replace("/", "/msg/", 1), True)
    return "\n".join(parts)


class McapBag:
    """Writes serialized messages of several topics into one MCAP file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close(), lives as long as the bag
        self._writer = Writer(self._file, compression=CompressionType.ZSTD)
        self._writer.start(profile="ros2", library="embodied_stack")
        self._channels: dict[str, int] = {}
        self._schemas: dict[str, int] = {}
        self._seq: dict[str, int] = {}

    def add_topic(self, topic: str, datatype: str) -> None:
        """Register ``topic`` with message type ``pkg/msg/Type`` before writing to it."""
        if datatype not in self._schemas:
            self._schemas[datatype] = self._writer.register_schema(
                name=datatype, encoding="ros2msg", data=message_definition(datatype).encode())
        self._channels[topic] = self._writer.register_channel(
            topic=topic, message_encoding="cdr", schema_id=self._schemas[datatype])
        self._seq[topic] = 0

    def write(self, topic: str, cdr: bytes, log_time_ns: int, publish_time_ns: int | None = None) -> None:
        self._writer.add_message(channel_id=self._channels[topic], log_time=log_time_ns, data=cdr,
                                 publish_time=publish_time_ns or log_time_ns, sequence=self._seq[topic])
        self._seq[topic] += 1

    def close(self) -> None:
        if self._file.closed:
            return
        self._writer.finish()
        self._file.close()
