"""Serving on several processes (AGORA_WORKERS): one port, N worker processes, one of them the leader.

A search's Python parts (fusion, features, paging, HTTP) hold its process's interpreter lock, so one
process keeps only about 1.5 of two cores busy however many searches wait (docs/benchmarks.md, "Where the
cores go under load"). Several processes do not share that lock. uvicorn runs them on one listening socket
(the kernel hands each connection to one of them) and restarts a worker that dies.

Each worker is a whole Agora process with its own database pool, matching engine, impression writer and
assistant; what they share lives in PostgreSQL and the data dir. What holds across them:
- next-page cursors are signed with one key and carry their search (`ranking.cursors`), so any worker
  continues any search;
- the service's once-only work (embedding the catalog on a cold start, saving the vector index, sweeping
  lapsed orders) is the leader's (`market.leadership`); the others load the index the leader saved;
- Prometheus counts are summed over the workers by prometheus_client's multiprocess mode, in a directory
  under the data dir emptied at each start.
"""

from __future__ import annotations

import os
import shutil

from litestar import Litestar

from market.leadership import Leadership
from market.settings import Settings, ensure_operator_token, settings_from_json, settings_to_json

SETTINGS_VARIABLE = "_AGORA_WORKER_SETTINGS"  # not AGORA_*: not a setting a user sets
DATABASE_VARIABLE = "_AGORA_WORKER_DATABASE_URL"


def serve_workers(settings: Settings, database_url: str, host: str, port: int) -> None:
    """Run `settings.workers` worker processes on host:port until stopped (SIGINT or SIGTERM)."""
    import uvicorn

    ensure_operator_token(settings)  # made once here, not raced for by the workers
    metrics = settings.data_dir / "run" / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)  # counts of an earlier run's processes are not this run's
    metrics.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    os.environ[SETTINGS_VARIABLE] = settings_to_json(settings).decode()
    os.environ[DATABASE_VARIABLE] = database_url
    uvicorn.run(
        "market.workers:worker_app",
        factory=True,
        workers=settings.workers,
        host=host,
        port=port,
        log_level=settings.log_level,
    )


def worker_app() -> Litestar:
    """The application of one worker process, made by uvicorn in that process."""
    from prometheus_client import multiprocess

    from market.app import create_app

    database_url = os.environ[DATABASE_VARIABLE]
    app = create_app(
        settings_from_json(os.environ[SETTINGS_VARIABLE]), database_url, leadership=Leadership(database_url)
    )
    # This worker's "live" gauges stop counting once it has stopped.
    app.on_shutdown.append(lambda: multiprocess.mark_process_dead(os.getpid()))
    return app
