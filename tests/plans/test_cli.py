"""``ansim check-plans`` as a person runs it (subprocess on the loaded store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plans.conftest import SAMPLE_ICS

pytestmark = pytest.mark.slow


def run(args: list[str], db: Path, var: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANSIM_DB_URL": f"sqlite:///{db}",
        "ANSIM_VAR_DIR": str(var),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "ansim.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_check_plans_json(loaded_db_path: Path, plans_var_dir: Path) -> None:
    done = run(["check-plans", str(SAMPLE_ICS), "--json"], loaded_db_path, plans_var_dir)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) >= {"plans", "weeks"}
    assert len(answer["plans"]) == 21
    first = answer["plans"][0]
    assert set(first) >= {
        "title",
        "start",
        "end",
        "place",
        "status",
        "reason",
        "ucov",
        "level",
        "drivers",
        "alternatives",
    }
    warned = [p["title"] for p in answer["plans"] if p["warning"]]
    assert warned == ["Lunch with the client (점심)", "Club night in Itaewon (클럽)"]
    assert [w["week"] for w in answer["weeks"]] == ["2020-W10", "2020-W18"]
    assert {"week", "ucov", "budget_share"} <= set(answer["weeks"][0])


def test_bad_input_exits_2_naming_the_event_and_field(
    loaded_db_path: Path, plans_var_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ics"
    bad.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:broken-42\r\nDTSTART:20200505T100000\r\n"
        "DTEND:20200505T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    done = run(["check-plans", str(bad)], loaded_db_path, plans_var_dir)
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "bad.ics" in message
    assert "broken-42" in message
    assert "DTEND" in message
    assert "Traceback" not in done.stderr
    plans = tmp_path / "plans.json"
    plans.write_text(
        json.dumps(
            [{"title": "x", "place": "시청역", "start": "2020-05-01 10:00", "activity": "rocket"}]
        ),
        encoding="utf-8",
    )
    done = run(["check-plans", str(plans)], loaded_db_path, plans_var_dir)
    assert done.returncode == 2
    assert "[0].activity" in done.stderr
    assert "rocket" in done.stderr
