"""`agora report` as an operator types it, on the known history (conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from market.app.cli import main


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "AGORA_DATA_DIR": str(tmp_path / "data")}


def test_the_report_prints_money_and_funnel(environment, known_history) -> None:
    result = CliRunner().invoke(
        main, ["report", "--since", "2024-05-06", "--until", "2024-05-14"], env=environment
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Agora, 2024-05-06 00:00 to 2024-05-14 00:00 UTC"
    # Money in major units, per currency (EUR, USD): see test_money.py for the arithmetic.
    assert lines[2].split() == ["EUR", "USD"]
    assert lines[3].split() == ["GMV", "200.00", "280.01"]
    assert lines[4].split() == ["Refunded", "0.00", "50.00"]
    assert lines[5].split() == ["Revenue", "(fees)", "20.00", "24.50"]
    assert lines[6].split() == ["Take", "rate", "10.0", "%", "10.7", "%"]  # 2_450 / 23_001 = 10.65 %
    assert lines[7].split() == ["Orders", "1", "3"]
    assert lines[8].split() == ["Average", "order", "200.00", "93.34"]  # 28_001 / 3 -> 9_334 cents
    assert lines[9].split() == ["Refund", "rate", "0.0", "%", "17.9", "%"]  # 5_000 / 28_001
    funnel = {line.rsplit(maxsplit=3)[0]: line.split()[-3] for line in lines[11:18]}
    assert funnel == {
        "Funnel": "sessions",
        "Sessions": "8",
        "Searched": "7",
        "Clicked": "5",
        "Added to cart": "5",
        "Checkout started": "4",
        "Paid": "4",
    }
    assert lines[-1] == (
        "Search (first pages): 7 searches, zero results 14.3 %, click-through 71.4 %, mean reciprocal rank 0.571"
    )


def test_json_is_the_apis_summary(environment, known_history) -> None:
    result = CliRunner().invoke(
        main, ["report", "--since", "2024-05-06", "--until", "2024-05-14", "--json"], env=environment
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert [(m["currency"], m["gmv"], m["orders"]) for m in summary["figures"]["money"]] == [
        ("EUR", 20_000, 1),
        ("USD", 28_001, 3),
    ]
    assert summary["figures"]["funnel"]["paid"] == 4


def test_an_empty_period_and_a_bad_one(environment) -> None:
    empty = CliRunner().invoke(
        main, ["report", "--since", "2023-01-01", "--until", "2023-01-02"], env=environment
    )
    assert empty.exit_code == 0, empty.output
    assert "nothing charged or refunded" in empty.output
    assert ["Sessions", "0", "-"] in [line.split() for line in empty.output.splitlines()]
    bad = CliRunner().invoke(
        main, ["report", "--since", "2024-05-14", "--until", "2024-05-06"], env=environment
    )
    assert bad.exit_code == 1 and "must be before until" in bad.output
