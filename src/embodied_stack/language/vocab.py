"""Colour and shape words in English and Chinese, with the RGB each colour means.

Why one table: the simulator names objects with these words, perception grounds
phrases with them and instructions are generated from them; if any of the three
used its own list they would drift apart and grounding would fail on words the
simulator uses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColorWord:
    name: str  # canonical English name, used as the attribute value
    rgb: tuple[float, float, float]  # 0..1, the colour objects of this name are rendered in
    en: tuple[str, ...]  # English words meaning this colour
    zh: tuple[str, ...]  # Chinese words meaning this colour


@dataclass(frozen=True)
class ShapeWord:
    name: str  # canonical class label
    en: tuple[str, ...]
    zh: tuple[str, ...]


COLORS: dict[str, ColorWord] = {c.name: c for c in (
    ColorWord("red", (0.85, 0.10, 0.10), ("red",), ("红色", "红")),
    ColorWord("green", (0.10, 0.70, 0.15), ("green",), ("绿色", "绿")),
    ColorWord("blue", (0.10, 0.25, 0.85), ("blue",), ("蓝色", "蓝")),
    ColorWord("yellow", (0.95, 0.85, 0.10), ("yellow",), ("黄色", "黄")),
    ColorWord("orange", (0.95, 0.50, 0.05), ("orange",), ("橙色", "橙")),
    ColorWord("purple", (0.55, 0.15, 0.75), ("purple", "violet"), ("紫色", "紫")),
    ColorWord("white", (0.92, 0.92, 0.92), ("white",), ("白色", "白")),
    ColorWord("black", (0.08, 0.08, 0.08), ("black",), ("黑色", "黑")),
)}

SHAPES: dict[str, ShapeWord] = {s.name: s for s in (
    ShapeWord("cube", ("cube", "block", "box"), ("方块", "立方体", "积木")),
    ShapeWord("cylinder", ("cylinder", "can", "cup"), ("圆柱", "罐子", "杯子")),
    ShapeWord("sphere", ("sphere", "ball"), ("球", "小球")),
    ShapeWord("bowl", ("bowl",), ("碗",)),
    ShapeWord("bin", ("bin", "box container", "tray"), ("盒子", "箱子", "托盘")),
)}

SIZES_EN = {"small": ("small", "little", "tiny"), "large": ("large", "big")}
SIZES_ZH = {"small": ("小",), "large": ("大",)}
