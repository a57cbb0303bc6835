"""With no DATABASE_URL, Agora runs its own PostgreSQL under the data dir: it survives restarts, and no server
is left behind when the last Agora process exits, even one stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from market.core import migrate

AGORA = [sys.executable, "-c", "from market.app.cli import main; main()"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = (tmp_path / "agora-data").resolve()
    yield directory
    # Whatever a test asserted, leave no server of ours running (SIGINT: PostgreSQL's fast shutdown).
    for process in postgres_servers(directory):
        process.send_signal(signal.SIGINT)
        psutil.wait_procs([process], timeout=10)


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_") and k != "DATABASE_URL"}
    return inherited | {"AGORA_DATA_DIR": str(data_dir)}


def postgres_servers(data_dir: Path) -> list[psutil.Process]:
    """Running postgres processes whose command line names a path under `data_dir`."""
    found = []
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(data_dir) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def agora(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AGORA, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(process: subprocess.Popen, url: str, timeout: float = 300) -> None:
    """Poll `url` until it answers, failing early if the server process dies. The timeout only guards
    against a hang: start-up (imports, PostgreSQL, the model's first ONNX export) takes ~45 s on two quiet
    cores and several times that on busy ones."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"agora serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout} s")


def test_db_upgrade_uses_a_data_dir_that_survives_and_stops_its_server(data_dir, env, tmp_path):
    available = migrate.available_migrations()

    first = agora("db", "upgrade", env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert f"{len(available)} migration(s) applied" in first.stdout
    assert (data_dir / "postgres" / "PG_VERSION").is_file()
    assert postgres_servers(data_dir) == []

    second = agora("db", "upgrade", env=env, cwd=tmp_path)

    assert second.returncode == 0, second.stderr
    assert "0 migration(s) applied" in second.stdout
    assert postgres_servers(data_dir) == []


def test_serve_answers_with_docs_and_stops_its_server_on_sigterm(data_dir, env, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*AGORA, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_up(server, f"{base}/healthz")
        assert postgres_servers(data_dir), "the embedded server runs under the data dir"

        wait_until_up(server, f"{base}/readyz")  # search finishes loading in the background
        ready = httpx.get(f"{base}/readyz")
        assert (ready.status_code, ready.json()["status"]) == (200, "ok")
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        assets = re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', docs.text)
        assert "/docs/assets/swagger-ui-bundle.js" in assets
        for asset in assets:
            assert httpx.get(f"{base}{asset}").status_code == 200, asset
        assert httpx.get(f"{base}/docs/openapi.json").json()["info"]["title"] == "Agora"

        # A second process on the same data dir shares the server, and leaving does not stop it under serve.
        upgrade = agora("db", "upgrade", env=env, cwd=tmp_path)
        assert upgrade.returncode == 0, upgrade.stderr
        assert "0 migration(s) applied" in upgrade.stdout
        assert httpx.get(f"{base}/readyz").status_code == 200

        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
        server.stderr.close()

    assert returncode in (0, 143), f"exited with {returncode}"
    assert postgres_servers(data_dir) == []


JOIN_AND_WAIT = """
import sys
from pathlib import Path
from market.core import db
pgdata = Path(sys.argv[1])
db.start_embedded_postgres(pgdata)
print("joined", flush=True)
sys.stdin.readline()  # until told to leave
db.rejoin_embedded_postgres(pgdata)
"""

START_AGAIN = """
import sys, time
from pathlib import Path
from market.core import db_supervisor
deadline = time.monotonic() + 30
while True:
    try:
        db_supervisor.start_again(Path(sys.argv[1]))
        break
    except RuntimeError:  # the killed server's process is not gone yet
        assert time.monotonic() < deadline
        time.sleep(0.1)
"""


def test_a_server_started_again_by_another_process_is_stopped_when_the_last_process_leaves(data_dir, env):
    """As with several workers: the serving process joined the server, the leader started it again after it
    died, and the serving process, leaving last, stops the new server, not only the dead one."""
    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True)
    command = [sys.executable, "-c"]
    first = subprocess.Popen(
        [*command, JOIN_AND_WAIT, str(pgdata)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout.readline().strip() == "joined"
        os.kill(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]), signal.SIGKILL)
        again = subprocess.run(
            [*command, START_AGAIN, str(pgdata)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        assert postgres_servers(data_dir), "started again, and still running after that process left"

        first.stdin.write("leave\n")
        first.stdin.close()
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert postgres_servers(data_dir) == []
