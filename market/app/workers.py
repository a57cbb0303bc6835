"""Serving on several processes (AGORA_WORKERS): one port, N worker processes, one of them the leader.

A search's Python parts (fusion, features, paging, HTTP) hold its process's interpreter lock, so one
process keeps only about 1.5 of two cores busy however many searches wait (docs/benchmarks.md, "Where the
cores go under load"). Several processes do not share that lock.

Each worker listens on a socket of its own, all bound to the one port with SO_REUSEPORT, so that the kernel
spreads connections evenly over them. (With one socket shared, as `uvicorn --workers` does, the worker that
wakes first accepts every connection waiting at that moment: eight keep-alive connections opened at once
all went to one worker, which then served alone.) A small supervisor here starts the workers, starts
another in place of one that dies, and passes SIGINT/SIGTERM on for a graceful stop.

Each worker is a whole Agora process with its own database pool, matching engine, impression writer and
assistant; what they share lives in PostgreSQL and the data dir. What holds across them:
- next-page cursors are signed with one key and carry their search (`ranking.cursors`), so any worker
  continues any search;
- the service's once-only work (embedding the catalog on a cold start, saving the vector index, sweeping
  lapsed orders, starting the embedded PostgreSQL again if it dies) is the leader's
  (`market.core.leadership`); the others load the index the leader saved;
- Prometheus counts are summed over the workers by prometheus_client's multiprocess mode, in a directory
  under the data dir emptied at each start.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import threading
from typing import TYPE_CHECKING

from litestar import Litestar

from market.core.db import embedded_pgdata, rejoin_embedded_postgres
from market.core.leadership import Leadership
from market.core.settings import Settings, ensure_operator_token, settings_from_json, settings_to_json

if TYPE_CHECKING:
    import uvicorn

SETTINGS_VARIABLE = "_AGORA_WORKER_SETTINGS"  # not AGORA_*: not a setting a user sets
DATABASE_VARIABLE = "_AGORA_WORKER_DATABASE_URL"
STARTUP_FAILURE = 3  # uvicorn's exit code for an app that could not start: starting it again would not help
STOP_SECONDS = 60.0  # how long a worker may take to finish its requests and lifespan once asked to stop

log = logging.getLogger("uvicorn.error")  # beside uvicorn's own messages, in its format


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
    config = uvicorn.Config(
        "market.app.workers:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        log_level=settings.log_level,
    )
    try:
        supervise(config, listening_sockets(host, port, settings.workers))
    finally:
        if (pgdata := embedded_pgdata(settings)) is not None:
            # The leader may have started the embedded server again: this process, the last to leave, is
            # to stop that one.
            rejoin_embedded_postgres(pgdata)


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on host:port together (SO_REUSEPORT); one shared socket where the system
    lacks it. Port 0 picks a free port, the same for all."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    for _ in range(count if hasattr(socket, "SO_REUSEPORT") else 1):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        port = sock.getsockname()[1]
        sock.listen(2048)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets * (count // len(sockets))


def supervise(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
    """Run one worker per socket until SIGINT or SIGTERM, replacing a worker that dies."""
    multiprocessing.allow_connection_pickling()  # the sockets travel to the workers
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no thread or lock of ours inherited

    def start(sock: socket.socket) -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=_worker_main, args=(config, sock), name="agora-worker")
        process.start()
        log.info("started worker process %d", process.pid)
        return process

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    workers = [start(sock) for sock in sockets]
    while not stopping.wait(0.5):
        for i, worker in enumerate(workers):
            if worker.is_alive() or stopping.is_set():
                continue
            if worker.exitcode == STARTUP_FAILURE:
                log.error("worker process %d could not start; stopping", worker.pid)
                stopping.set()
                break
            log.warning(
                "worker process %d ended (exit code %s); starting another", worker.pid, worker.exitcode
            )
            workers[i] = start(sockets[i])
    for worker in workers:
        if worker.is_alive():
            os.kill(worker.pid, signal.SIGTERM)  # uvicorn finishes what is in flight, then the lifespan
    for worker in workers:
        worker.join(STOP_SECONDS)
        if worker.is_alive():
            log.warning("worker process %d did not stop in %.0f s; killing it", worker.pid, STOP_SECONDS)
            worker.kill()
            worker.join()
    if any(worker.exitcode == STARTUP_FAILURE for worker in workers):
        raise SystemExit(STARTUP_FAILURE)


def _worker_main(config: uvicorn.Config, sock: socket.socket) -> None:
    """In a worker process: serve the app on `sock` until SIGINT or SIGTERM."""
    import uvicorn

    config.configure_logging()
    uvicorn.Server(config).run(sockets=[sock])


def worker_app() -> Litestar:
    """The application of one worker process, made by uvicorn in that process."""
    from prometheus_client import multiprocess

    from market.app.asgi import create_app

    database_url = os.environ[DATABASE_VARIABLE]
    settings = settings_from_json(os.environ[SETTINGS_VARIABLE])
    app = create_app(
        settings,
        database_url,
        leadership=Leadership(database_url),
        worker=str(os.getpid()),  # which worker answered, for whoever needs to tell them apart
        embedded_pgdata=embedded_pgdata(settings),  # the leader starts it again if it dies
    )
    # This worker's "live" gauges stop counting once it has stopped.
    app.on_shutdown.append(lambda: multiprocess.mark_process_dead(os.getpid()))
    return app
