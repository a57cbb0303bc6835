"""The flywheel's commands as an operator types them: retrain on an empty log, roll a model back, a bad
schedule refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from market.app.cli import main


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "AGORA_DATA_DIR": str(tmp_path / "data")}


def test_retrain_on_an_empty_log_says_why_nothing_was_trained(environment) -> None:
    result = CliRunner().invoke(main, ["retrain", "--json"], env=environment)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["impressions"] == 0
    assert [(d["kind"], d["outcome"]) for d in report["decisions"]] == [
        ("reranker", "skipped"),
        ("embedding", "skipped"),
    ]
    assert "searches with a click or better" in report["decisions"][0]["reason"]


def test_rollback_serves_an_earlier_version_and_refuses_one_that_never_served(environment, tmp_path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["models", "list"], env=environment)
    seed_version = listed.output.split()[0]
    assert seed_version.startswith("reranker-seed-") and "serving" in listed.output

    refused = runner.invoke(main, ["models", "rollback", seed_version], env=environment)
    assert refused.exit_code == 1 and "already serves" in refused.output
    unknown = runner.invoke(main, ["models", "rollback", "reranker-nope"], env=environment)
    assert unknown.exit_code == 1 and "no model version 'reranker-nope'" in unknown.output


def test_worker_refuses_a_schedule_that_is_not_cron(environment) -> None:
    result = CliRunner().invoke(main, ["worker", "--cron", "nightly"], env=environment)
    assert result.exit_code == 2
    assert "five-field cron expression" in result.output
