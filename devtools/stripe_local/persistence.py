"""The server's state kept in a file across restarts (`--state-file`), so that what an application stored
about earlier charges, transfers and accounts can still be looked up after the server is started again.

Every object lives in localstripe's `store` (a dict). localstripe calls `store.dump_to_disk()` after each
insertion or deletion (patches.py makes that a no-op); with a state file, that call and every request that
may change an object in place (any but a GET) mark the state changed, and a background task writes it at
most every `SAVE_SECONDS`, and once more at exit. Each write is whole: pickled to a temporary file in the
same folder, flushed to disk, then renamed over the old one, so a crash leaves the previous state, never
half of one. Webhook endpoints, stored idempotent answers and deliveries not yet made are not kept.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import tempfile
from pathlib import Path

from aiohttp import web
from localstripe.resources import store

SAVE_SECONDS = 0.5

log = logging.getLogger(__name__)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.changed = False

    def load(self) -> int:
        """Put the saved objects in the store (none if there is no file yet); returns how many."""
        if not self.path.is_file():
            return 0
        with self.path.open("rb") as handle:
            saved = pickle.load(handle)
        store.clear()
        store.update(saved)
        return len(saved)

    def attach(self, app: web.Application) -> None:
        """Have `app`'s changes marked (before it starts: aiohttp freezes its middlewares then)."""
        store.dump_to_disk = self.mark_changed
        app.middlewares.insert(0, self._mark_writes)

    def mark_changed(self) -> None:
        self.changed = True

    def save(self) -> None:
        self.changed = False
        # A plain dict: the store instance carries patched methods, which do not pickle.
        data = pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        finally:
            Path(temporary).unlink(missing_ok=True)

    async def keep(self) -> None:
        """Write the state whenever it changed, at most every `SAVE_SECONDS`, until cancelled."""
        while True:
            await asyncio.sleep(SAVE_SECONDS)
            if self.changed:
                try:
                    self.save()
                except OSError:
                    log.exception("could not save the state to %s; trying again", self.path)
                    self.changed = True

    @web.middleware
    async def _mark_writes(self, request: web.Request, handler):
        try:
            return await handler(request)
        finally:
            if request.method != "GET":
                self.changed = True
