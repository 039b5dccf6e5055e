"""The static map as an occupancy grid, and an A* global planner on it (rooms and doorways).

Why a grid (not the waypoint graph the simulated walkers use): it is what ``/map`` carries
(``nav_msgs/OccupancyGrid``: row-major, row 0 at the origin's y, 0 free / 100 occupied) and what Nav2 users
expect; the robot's own path must keep its footprint clear of walls, which inflation by the robot radius
gives for free. The indoor world's walls and furniture come from its MJCF (the same boxes the simulator
collides with), so the map never drifts from the world.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from embodied_stack import paths

FREE, OCCUPIED = 0, 100
INDOOR_MODEL = "sim/worlds/indoor.xml"


@dataclass
class OccupancyGrid:
    """``data[row, col]`` covers x in [origin_x + col res, + res), y in [origin_y + row res, + res)."""

    data: np.ndarray  # (H, W) int8, FREE / OCCUPIED
    resolution: float  # m per cell
    origin: np.ndarray  # x, y (m) of cell (0, 0)'s lower-left corner

    @classmethod
    def from_boxes(cls, boxes: np.ndarray, resolution: float = 0.05, margin: float = 0.5) -> OccupancyGrid:
        """Rasterise axis-aligned boxes ``xmin, ymin, xmax, ymax`` (m); the grid spans them plus margin."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            raise ValueError("no obstacle boxes: a map needs at least its walls")
        if resolution <= 0:
            raise ValueError(f"resolution={resolution} must be > 0 m")
        lo = boxes[:, :2].min(axis=0) - margin
        hi = boxes[:, 2:].max(axis=0) + margin
        w, h = (np.ceil((hi - lo) / resolution)).astype(int)
        data = np.zeros((h, w), dtype=np.int8)
        for x0, y0, x1, y1 in boxes:
            c0, r0 = np.floor((np.array([x0, y0]) - lo) / resolution).astype(int)
            c1, r1 = np.ceil((np.array([x1, y1]) - lo) / resolution).astype(int)
            data[max(r0, 0):r1, max(c0, 0):c1] = OCCUPIED
        return cls(data, float(resolution), lo)

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape

    def cell(self, xy: np.ndarray) -> tuple[int, int]:
        """(row, col) of a world point."""
        col, row = np.floor((np.asarray(xy, dtype=np.float64) - self.origin) / self.resolution).astype(int)
        return int(row), int(col)

    def world(self, row: int, col: int) -> np.ndarray:
        """Centre of a cell (m)."""
        return self.origin + (np.array([col, row]) + 0.5) * self.resolution

    def inflated(self, radius: float) -> np.ndarray:
        """Boolean (H, W): cells whose centre is within ``radius`` m of an occupied cell."""
        occ = self.data >= OCCUPIED
        r = int(math.ceil(radius / self.resolution))
        out = occ.copy()
        h, w = occ.shape
        for dr in range(-r, r + 1):
            for dc in range(-r, r + 1):
                if dr * dr + dc * dc > (radius / self.resolution) ** 2 + 1e-9:
                    continue
                src = occ[max(0, -dr):h - max(0, dr), max(0, -dc):w - max(0, dc)]
                out[max(0, dr):h - max(0, -dr), max(0, dc):w - max(0, -dc)] |= src
        return out


def indoor_obstacle_boxes(model_path: str = INDOOR_MODEL) -> np.ndarray:
    """Footprints of the indoor world's ``wall_*`` / ``furniture_*`` boxes, read from its MJCF (the same
    selection :meth:`embodied_stack.sim.indoor.IndoorWorld.obstacle_boxes` makes)."""
    import mujoco

    from embodied_stack.sim.indoor import OBSTACLE_PREFIXES

    m = mujoco.MjModel.from_xml_path(str(paths.resolve(model_path)))
    boxes = []
    for g in range(m.ngeom):
        if m.geom(g).name.startswith(OBSTACLE_PREFIXES) and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX:
            c, h = m.geom_pos[g], m.geom_size[g]
            boxes.append([c[0] - h[0], c[1] - h[1], c[0] + h[0], c[1] + h[1]])
    return np.array(boxes).reshape(-1, 4)


def indoor_grid(resolution: float = 0.05) -> OccupancyGrid:
    """The indoor world's static map."""
    return OccupancyGrid.from_boxes(indoor_obstacle_boxes(), resolution)


def box_segments(boxes: np.ndarray) -> np.ndarray:
    """(4k, 4) edges of boxes, as wall segments for the local planners."""
    out = []
    for x0, y0, x1, y1 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        out += [[x0, y0, x1, y0], [x1, y0, x1, y1], [x1, y1, x0, y1], [x0, y1, x0, y0]]
    return np.array(out).reshape(-1, 4)


_MOVES = [(-1, 0, 1.0), (1, 0, 1.0), (0, -1, 1.0), (0, 1, 1.0),
          (-1, -1, math.sqrt(2)), (-1, 1, math.sqrt(2)), (1, -1, math.sqrt(2)), (1, 1, math.sqrt(2))]


def astar(grid: OccupancyGrid, start: np.ndarray, goal: np.ndarray, robot_radius: float) -> np.ndarray:
    """Shortest 8-connected path (world waypoints, (k, 2), start to goal) keeping ``robot_radius`` m from
    obstacles, shortened by line of sight; raises ``ValueError`` naming the blocked end or no path."""
    blocked = grid.inflated(robot_radius)
    h, w = blocked.shape
    s, g = grid.cell(start), grid.cell(goal)
    for name, (r, c), xy in (("start", s, start), ("goal", g, goal)):
        if not (0 <= r < h and 0 <= c < w) or blocked[r, c]:
            raise ValueError(f"{name} {np.round(xy, 2).tolist()} is outside the map or within "
                             f"{robot_radius} m of an obstacle; choose a free {name}")
    octile = lambda r, c: max(abs(r - g[0]), abs(c - g[1])) + (math.sqrt(2) - 1) * min(  # noqa: E731
        abs(r - g[0]), abs(c - g[1]))
    cost = np.full((h, w), np.inf)
    cost[s] = 0.0
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    queue = [(octile(*s), 0.0, s)]
    while queue:
        _, d, node = heapq.heappop(queue)
        if node == g:
            break
        if d > cost[node]:
            continue
        for dr, dc, step in _MOVES:
            r, c = node[0] + dr, node[1] + dc
            if 0 <= r < h and 0 <= c < w and not blocked[r, c] and d + step < cost[r, c]:
                if dr and dc and (blocked[node[0] + dr, node[1]] or blocked[node[0], node[1] + dc]):
                    continue  # no corner cutting
                cost[r, c] = d + step
                parent[(r, c)] = node
                heapq.heappush(queue, (d + step + octile(r, c), d + step, (r, c)))
    if not np.isfinite(cost[g]):
        raise ValueError(f"no collision-free path from {np.round(start, 2).tolist()} to "
                         f"{np.round(goal, 2).tolist()} for a robot of radius {robot_radius} m")
    cells = [g]
    while cells[-1] != s:
        cells.append(parent[cells[-1]])
    cells.reverse()
    return _shortcut(blocked, grid, cells, np.asarray(start, float), np.asarray(goal, float))


def _line_free(blocked: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> bool:
    n = max(abs(b[0] - a[0]), abs(b[1] - a[1])) * 2 + 1
    rows = np.round(np.linspace(a[0], b[0], n)).astype(int)
    cols = np.round(np.linspace(a[1], b[1], n)).astype(int)
    return not blocked[rows, cols].any()


def _shortcut(blocked: np.ndarray, grid: OccupancyGrid, cells: list[tuple[int, int]], start: np.ndarray,
              goal: np.ndarray) -> np.ndarray:
    keep = [0]
    while keep[-1] < len(cells) - 1:
        nxt = len(cells) - 1
        while nxt > keep[-1] + 1 and not _line_free(blocked, cells[keep[-1]], cells[nxt]):
            nxt -= 1
        keep.append(nxt)
    points = [grid.world(*cells[i]) for i in keep]
    points[0], points[-1] = start, goal
    return np.array(points)


def carrot(path: np.ndarray, position: np.ndarray, lookahead: float) -> np.ndarray:
    """The point ``lookahead`` m along ``path`` beyond the path point closest to ``position`` — the local
    planner's goal while following a global path."""
    seg_a, seg_b = path[:-1], path[1:]
    if len(path) < 2:
        return path[-1].copy()
    ab = seg_b - seg_a
    t = np.clip(np.sum((position - seg_a) * ab, axis=1) / np.maximum(np.sum(ab * ab, axis=1), 1e-12), 0, 1)
    closest = seg_a + t[:, None] * ab
    i = int(np.argmin(np.linalg.norm(closest - position, axis=1)))
    left, point = lookahead, closest[i]
    for j in range(i, len(path) - 1):
        length = float(np.linalg.norm(path[j + 1] - point))
        if length >= left:
            return point + (path[j + 1] - point) * (left / max(length, 1e-12))
        left -= length
        point = path[j + 1]
    return path[-1].copy()
