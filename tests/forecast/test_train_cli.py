"""``ansim train --if-missing`` (what ``make run`` calls) trains once, then reuses the saved models."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ansim.cli import app


@pytest.mark.slow
def test_train_if_missing_trains_once(tmp_path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["train", "--quick", "--if-missing", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    saved = sorted(p.parent.name for p in tmp_path.glob("*/model.json"))
    assert len(saved) >= 4
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/q50.txt")}
    second = runner.invoke(app, ["train", "--quick", "--if-missing", "--out", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert "nothing to train" in second.output
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/q50.txt")} == stamps
