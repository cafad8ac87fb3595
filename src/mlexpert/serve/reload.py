"""Hot reload: a server on a registry picks up a new champion without downtime.

A background task polls the registry's generation (one small query) every ``interval``
seconds. When it changed, the catalog is rebuilt in a worker thread (new versions are
loaded and checksum-verified, models already loaded are kept) and swapped in at once:
requests in flight finish on the model they started with, the next ones get the new
champion. A reload that fails (a bad directory, the store unreachable) is logged and the
server keeps serving what it has.
"""

from __future__ import annotations

import logging

import anyio

from .catalog import refresh

log = logging.getLogger("mlexpert.serve")


class RegistryWatcher:
    """Polls ``registry`` and refreshes the app's catalog when it changes."""

    def __init__(self, app, registry, interval: float):
        self.app, self.registry, self.interval = app, registry, interval
        self.generation: int | None = None
        self.reloads = 0
        self.last_error: str | None = None

    async def run(self) -> None:
        self.generation = await anyio.to_thread.run_sync(self.registry.generation)
        while True:
            await anyio.sleep(self.interval)
            await self.check()

    async def check(self) -> bool:
        """Reload when the registry changed since the last look; returns whether it did."""
        try:
            current = await anyio.to_thread.run_sync(self.registry.generation)
            if current == self.generation:
                return False
            state, settings = self.app.state, self.app.state.settings
            changed = await anyio.to_thread.run_sync(refresh, state.catalog, settings.model_dir,
                                                     settings.runtime, self.registry)
        except Exception as exc:  # keep serving the models already loaded
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("registry reload failed, still serving the loaded models: %s", self.last_error)
            return False
        self.generation, self.last_error = current, None
        if changed:
            self.reloads += 1
            self.app.openapi_schema = None
            defaults = ", ".join(f"{n}={v}" for n, v in sorted(state.catalog.latest.items()))
            log.info("registry changed: now serving %s", defaults)
        return changed
