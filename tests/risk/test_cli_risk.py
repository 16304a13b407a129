"""``ansim risk`` and ``ansim region`` on a loaded store.

Most cases run the CLI in-process (``ansim.cli.main``, the real entry point with its error handling);
one runs it as a subprocess, as a person does, and checks that a cold process answers from the
engine's state cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansim.cli import main
from ansim.settings import get_settings

CITY_HALL = ["--lat", "37.5665", "--lon", "126.9780"]


@pytest.fixture
def cli(risk_store_path: Path, risk_var: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run ``ansim ARGS`` in-process on the risk store: returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("ANSIM_DB_URL", f"sqlite:///{risk_store_path}")
    monkeypatch.setenv("ANSIM_VAR_DIR", str(risk_var))
    get_settings.cache_clear()

    def run(args: list[str]) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ansim", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    get_settings.cache_clear()


def test_risk_json_and_region(cli) -> None:
    code, out, err = cli(["risk", *CITY_HALL, "--at", "2020-03-10T18:00+09:00", "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["at"] == "2020-03-10T18:00:00+09:00"
    assert payload["region"]["code"] == "11140"
    assert payload["level"] in {"very_low", "low", "moderate", "high", "very_high", "dangerous"}
    assert payload["ucov"]["lower"] < payload["ucov"]["value"] < payload["ucov"]["upper"]
    code, out, err = cli(
        [
            "risk",
            *CITY_HALL,
            "--at",
            "2020-03-10T18:00",
            "--your-mask",
            "kf94",
            "--their-mask",
            "kf94",
            "--json",
        ]
    )
    assert code == 0, err
    assert json.loads(out)["ucov"]["value"] < payload["ucov"]["value"] / 10
    code, out, err = cli(["region", "강남구", "--at", "2020-03-10", "--json"])
    assert code == 0, err
    info = json.loads(out)
    assert info["code"] == "11680"
    assert info["distancing_level"]["rules_en"]
    assert info["rt"]["unit"].startswith("secondary cases")
    code, out, err = cli(["region", "Gangnam-gu", "--at", "2020-12-08"])
    assert code == 0, err
    assert "Level 2.5" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["risk", "--lat", "35.18", "--lon", "129.07", "--at", "2020-03-10"], "lat/lon"),
        (["risk", *CITY_HALL, "--at", "2030-01-01"], "at"),
        (["risk", *CITY_HALL, "--at", "2020-03-10", "--voice", "whisper"], "voice"),
        (["risk", *CITY_HALL, "--at", "yesterday-ish"], "--at"),
        (["region", "Atlantis"], "NAME_OR_CODE"),
    ],
)
def test_bad_input_exits_2_naming_the_field(cli, args: list[str], field: str) -> None:
    code, _out, err = cli(args)
    assert code == 2, err
    assert f"'{field}'" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_cold_process_answers_from_the_state_cache(cli, risk_store_path: Path, risk_var: Path):
    """A real subprocess, after the state is cached: the same answer, without rebuilding."""
    code, warm, err = cli(["risk", *CITY_HALL, "--at", "2020-03-10T18:00", "--json"])
    assert code == 0, err
    states = list((risk_var / "risk_state").glob("engine_*.npz"))
    assert states
    env = {
        **os.environ,
        "ANSIM_DB_URL": f"sqlite:///{risk_store_path}",
        "ANSIM_VAR_DIR": str(risk_var),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ansim.cli",
            "risk",
            *CITY_HALL,
            "--at",
            "2020-03-10T18:00",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(warm)
    # no new state written: the subprocess loaded the cached one
    assert sorted(p.stat().st_mtime_ns for p in states) == sorted(
        p.stat().st_mtime_ns for p in (risk_var / "risk_state").glob("engine_*.npz")
    )
