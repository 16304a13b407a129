"""Shared fixtures: paths to the bundled data and an isolated store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """The bundled Seoul dataset."""
    return DATA


@pytest.fixture
def test_data_dir() -> Path:
    """Small files made for tests."""
    return TEST_DATA
