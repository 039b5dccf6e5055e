"""Shared fixtures of the planner tests: the real config, catalogue, places, scenes and one Planner."""

from __future__ import annotations

from pathlib import Path

import pytest

from embodied_stack.planner.catalogue import load_catalogue
from embodied_stack.planner.config import load_planner_config
from embodied_stack.planner.evaluation import load_scenes
from embodied_stack.planner.facade import Planner
from embodied_stack.planner.world import load_places

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def planner_config():
    return load_planner_config()


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="session")
def places():
    return load_places()


@pytest.fixture(scope="session")
def scenes(places):
    return load_scenes(HERE / "scenes", places)


@pytest.fixture(scope="session")
def planner(planner_config):
    """The default (embedded) planner with the MiniLM synonym matcher, shared: loading it costs ~1 s."""
    return Planner(planner_config)


@pytest.fixture
def home(scenes):
    return scenes["home"].copy()


@pytest.fixture
def tabletop(scenes):
    return scenes["tabletop"].copy()
