"""``ansim risk`` and ``ansim region`` on the loaded store (subprocesses, as a person runs them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# the store topic's session fixtures (a loaded SQLite store), reused here


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the module's commands (cell table, gravity model)."""
    return tmp_path_factory.mktemp("var")


def run(args: list[str], db: Path, var: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIM_DB_URL": f"sqlite:///{db}", "ANSIM_VAR_DIR": str(var)}
    return subprocess.run(
        [sys.executable, "-m", "ansim.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_risk_json_and_region(loaded_db_path: Path, var_dir: Path) -> None:
    out = run(
        [
            "risk",
            "--lat",
            "37.5665",
            "--lon",
            "126.9780",
            "--at",
            "2020-03-10T18:00+09:00",
            "--json",
        ],
        loaded_db_path,
        var_dir,
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["at"] == "2020-03-10T18:00:00+09:00"
    assert payload["region"]["code"] == "11140"
    assert payload["level"] in {"very_low", "low", "moderate", "high", "very_high", "dangerous"}
    assert payload["ucov"]["lower"] < payload["ucov"]["value"] < payload["ucov"]["upper"]
    masked = run(
        [
            "risk",
            "--lat",
            "37.5665",
            "--lon",
            "126.9780",
            "--at",
            "2020-03-10T18:00",
            "--your-mask",
            "kf94",
            "--their-mask",
            "kf94",
            "--json",
        ],
        loaded_db_path,
        var_dir,
    )
    assert masked.returncode == 0, masked.stderr
    assert json.loads(masked.stdout)["ucov"]["value"] < payload["ucov"]["value"] / 10
    region = run(["region", "강남구", "--at", "2020-03-10", "--json"], loaded_db_path, var_dir)
    assert region.returncode == 0, region.stderr
    info = json.loads(region.stdout)
    assert info["code"] == "11680"
    assert info["distancing_level"]["rules_en"]
    assert info["rt"]["unit"].startswith("secondary cases")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["risk", "--lat", "35.18", "--lon", "129.07", "--at", "2020-03-10"], "lat/lon"),
        (["risk", "--lat", "37.5665", "--lon", "126.978", "--at", "2030-01-01"], "at"),
        (
            [
                "risk",
                "--lat",
                "37.5665",
                "--lon",
                "126.978",
                "--at",
                "2020-03-10",
                "--voice",
                "whisper",
            ],
            "voice",
        ),
        (["risk", "--lat", "37.5665", "--lon", "126.978", "--at", "yesterday-ish"], "--at"),
        (["region", "Atlantis"], "NAME_OR_CODE"),
    ],
)
def test_bad_input_exits_2_naming_the_field(
    loaded_db_path: Path,
    var_dir: Path,
    args: list[str],
    field: str,
) -> None:
    out = run(args, loaded_db_path, var_dir)
    assert out.returncode == 2, out.stderr
    assert f"'{field}'" in out.stderr
    assert "Traceback" not in out.stderr
