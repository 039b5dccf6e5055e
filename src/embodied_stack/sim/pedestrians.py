"""Pedestrians that walk between named places with a social-force model (Helbing & Molnar 1995).

Why this simple model: the indoor world needs people who cross rooms, pass through doorways, keep apart
from each other and step around the robot, so perception and navigation see realistic clutter. A full
crowd model comes with social navigation later; this one is ROS-free numpy, deterministic under its
generator, and knows nothing of MuJoCo (the world copies positions into mocap bodies).

Each pedestrian follows the shortest path over a graph of waypoints (places and doorways) to a randomly
chosen place, pauses there, and picks the next. Its acceleration is

    a = (v0 * e_waypoint - v) / tau + sum_agents A exp((r_ij - d_ij) / B) n_ij
        + sum_walls A_w exp((r_i - d_iw) / B_w) n_iw + robot repulsion

with speed capped at 1.3 v0.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SocialForceParams:
    """Helbing's parameters (SI). Defaults from the social-force literature for walking adults."""

    radius: float = 0.25  # m, body radius
    tau: float = 0.5  # s, relaxation time towards the desired velocity
    agent_strength: float = 5.0  # m/s^2, A: 2.0 let people overlap in doorways (min gap 0.15 m)
    agent_range: float = 0.3  # m, B
    wall_strength: float = 5.0  # m/s^2
    wall_range: float = 0.1  # m
    robot_strength: float = 3.0  # m/s^2: people give a robot a wider berth than each other
    robot_range: float = 0.4  # m
    robot_radius: float = 0.3  # m, footprint of a Go2-class robot
    waypoint_tolerance: float = 0.4  # m: switch to the next waypoint this close
    max_speed_factor: float = 1.3
    pause_s: tuple[float, float] = (0.5, 3.0)  # s, dwell at a place before leaving


class WaypointGraph:
    """Places and doorways joined by walkable straight segments; shortest paths by Dijkstra."""

    def __init__(self, nodes: Mapping[str, Sequence[float]], edges: Sequence[Sequence[str]],
                 places: Sequence[str]) -> None:
        self.nodes = {name: np.asarray(xy, dtype=np.float64).reshape(2) for name, xy in nodes.items()}
        self.adjacent: dict[str, list[str]] = {name: [] for name in self.nodes}
        for edge in edges:
            if len(edge) != 2 or edge[0] not in self.nodes or edge[1] not in self.nodes:
                raise ValueError(f"edge {list(edge)} must join two of the nodes {sorted(self.nodes)}")
            self.adjacent[edge[0]].append(edge[1])
            self.adjacent[edge[1]].append(edge[0])
        unknown = [p for p in places if p not in self.nodes]
        if unknown or len(places) < 2:
            raise ValueError(f"places {list(places)} must be >= 2 names among the nodes {sorted(self.nodes)}")
        self.places = list(places)

    def path(self, start: str, goal: str) -> list[str]:
        """Node names from ``start`` (exclusive) to ``goal`` (inclusive)."""
        dist = {start: 0.0}
        prev: dict[str, str] = {}
        queue = [(0.0, start)]
        while queue:
            d, node = heapq.heappop(queue)
            if node == goal:
                break
            if d > dist[node]:
                continue
            for nxt in self.adjacent[node]:
                nd = d + float(np.linalg.norm(self.nodes[nxt] - self.nodes[node]))
                if nd < dist.get(nxt, np.inf):
                    dist[nxt], prev[nxt] = nd, node
                    heapq.heappush(queue, (nd, nxt))
        if goal not in dist:
            raise ValueError(f"waypoint graph has no path from {start!r} to {goal!r}")
        out = [goal]
        while out[-1] != start:
            out.append(prev[out[-1]])
        return out[::-1][1:]


class PedestrianCrowd:
    """``n`` pedestrians over a :class:`WaypointGraph` among axis-aligned wall boxes.

    walls: (k, 4) array of wall rectangles ``xmin, ymin, xmax, ymax`` (m).
    """

    def __init__(self, n: int, graph: WaypointGraph, walls: np.ndarray,
                 speed_range: tuple[float, float] = (0.8, 1.3),
                 params: SocialForceParams | None = None) -> None:
        if n < 0:
            raise ValueError(f"number of pedestrians must be >= 0, got {n}")
        if not 0 < speed_range[0] <= speed_range[1]:
            raise ValueError(f"speed_range={speed_range} must be 0 < low <= high (m/s)")
        self.n = n
        self.graph = graph
        self.walls = np.asarray(walls, dtype=np.float64).reshape(-1, 4)
        self.speed_range = speed_range
        self.params = params or SocialForceParams()
        self.position = np.zeros((n, 2))
        self.velocity = np.zeros((n, 2))
        self.desired_speed = np.zeros(n)
        self._at: list[str] = [""] * n  # last node reached
        self._route: list[list[str]] = [[] for _ in range(n)]
        self._pause = np.zeros(n)
        self._rng = np.random.default_rng(0)

    def reset(self, rng: np.random.Generator) -> None:
        """Place everyone at distinct places (with jitter) and send them off."""
        self._rng = rng
        places = self.graph.places
        for i in range(self.n):
            start = places[i % len(places)] if i < len(places) else places[int(rng.integers(len(places)))]
            self._at[i] = start
            self.position[i] = self.graph.nodes[start] + rng.uniform(-0.3, 0.3, 2)
            self.velocity[i] = 0.0
            self.desired_speed[i] = rng.uniform(*self.speed_range)
            self._pause[i] = rng.uniform(0.0, self.params.pause_s[1])
            self._new_route(i)

    def _new_route(self, i: int) -> None:
        choices = [p for p in self.graph.places if p != self._at[i]]
        goal = choices[int(self._rng.integers(len(choices)))]
        self._route[i] = self.graph.path(self._at[i], goal)

    def step(self, dt: float, robot_xy: np.ndarray | None = None) -> None:
        """Advance everyone by ``dt`` seconds (semi-implicit Euler)."""
        if self.n == 0:
            return
        p = self.params
        force = np.zeros((self.n, 2))
        for i in range(self.n):
            if self._pause[i] > 0:
                self._pause[i] -= dt
                force[i] = -self.velocity[i] / p.tau
                continue
            target = self.graph.nodes[self._route[i][0]]
            offset = target - self.position[i]
            distance = float(np.linalg.norm(offset))
            if distance < p.waypoint_tolerance:
                self._at[i] = self._route[i].pop(0)
                if not self._route[i]:
                    self._pause[i] = self._rng.uniform(*p.pause_s)
                    self._new_route(i)
                    continue
                target = self.graph.nodes[self._route[i][0]]
                offset = target - self.position[i]
                distance = float(np.linalg.norm(offset))
            desired = self.desired_speed[i] * offset / max(distance, 1e-6)
            force[i] = (desired - self.velocity[i]) / p.tau
        force += self._agent_forces() + self._wall_forces()
        if robot_xy is not None:
            force += self._robot_forces(np.asarray(robot_xy, dtype=np.float64)[:2])
        self.velocity += dt * force
        speed = np.linalg.norm(self.velocity, axis=1, keepdims=True)
        cap = (p.max_speed_factor * self.desired_speed)[:, None]
        self.velocity = np.where(speed > cap, self.velocity * cap / np.maximum(speed, 1e-9), self.velocity)
        self.position += dt * self.velocity

    def _agent_forces(self) -> np.ndarray:
        p = self.params
        diff = self.position[:, None, :] - self.position[None, :, :]  # i - j
        dist = np.linalg.norm(diff, axis=2)
        np.fill_diagonal(dist, np.inf)
        normal = diff / np.maximum(dist, 1e-6)[:, :, None]
        magnitude = p.agent_strength * np.exp((2 * p.radius - dist) / p.agent_range)
        return np.sum(magnitude[:, :, None] * normal, axis=1)

    def _wall_forces(self) -> np.ndarray:
        if len(self.walls) == 0:
            return np.zeros_like(self.position)
        p = self.params
        closest = np.clip(self.position[:, None, :], self.walls[None, :, :2], self.walls[None, :, 2:])
        diff = self.position[:, None, :] - closest
        dist = np.linalg.norm(diff, axis=2)
        normal = diff / np.maximum(dist, 1e-6)[:, :, None]
        magnitude = p.wall_strength * np.exp((p.radius - dist) / p.wall_range)
        return np.sum(magnitude[:, :, None] * normal, axis=1)

    def _robot_forces(self, robot_xy: np.ndarray) -> np.ndarray:
        p = self.params
        diff = self.position - robot_xy
        dist = np.linalg.norm(diff, axis=1)
        normal = diff / np.maximum(dist, 1e-6)[:, None]
        magnitude = p.robot_strength * np.exp((p.radius + p.robot_radius - dist) / p.robot_range)
        return magnitude[:, None] * normal
