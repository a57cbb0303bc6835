"""The `agora` command: serve the marketplace, manage its database, load a demo, import catalogs, evaluate,
and run the loop (simulate, retrain, models, events, report). One module per command group."""

from __future__ import annotations

import os
import signal
import sys

import click

from market.app.cli import catalog, database, evaluation, events, flywheel, index, mcp, models, report, serve
from market.app.log_lines import escape_log_records
from market.core.settings import SettingsError, load_settings


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Agora, the agentic-commerce marketplace. Settings come from AGORA_* variables and .env."""
    # SIGTERM ends the process through normal exit, so the embedded PostgreSQL is stopped cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # OpenMP threads (LightGBM's) that spin while idle starve llama.cpp's threads on a small machine: the
    # assistant's first reply took 9-11 s instead of ~3.5 s. It must be set before LightGBM is loaded.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    escape_log_records()  # whatever a command logs of its input, one record stays one line
    try:
        ctx.obj = load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


for command in (
    serve.serve,
    serve.demo,
    database.db,
    catalog.catalog,
    index.index,
    evaluation.evaluation,
    models.models,
    events.events,
    flywheel.simulate,
    flywheel.retrain,
    flywheel.worker,
    report.report,
    mcp.mcp,
):
    main.add_command(command)
