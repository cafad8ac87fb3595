"""Trial models kept on disk: the search's fold models wait in a temporary folder, not in
memory, until ensembling, refits or the review ask for them.

A search keeps the fold models of its best trials as ensemble candidates; forests and
k-NN store their training rows, so they can hold hundreds of MB that only the few trials
picked for the ensemble will ever use again. Each fold model is pickled to its own file
as soon as it is fitted (:class:`FoldCollector`), so a trial holds at most one batch of
parallel folds in memory, and read back one at a time when asked for. The folder is
removed by :meth:`ModelSpill.close`, or when the spill is garbage-collected or the process
exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import shutil
import tempfile
import weakref
from collections.abc import Sequence


class SpilledModels(Sequence):
    """The fold models of one trial, on disk: ``len`` is free, each item is read on access
    (nothing is cached, so a caller that keeps a model keeps the only copy in memory)."""

    def __init__(self, paths: list[str | None]):
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [_load(p) for p in self.paths[index]]
        return _load(self.paths[index])

    def __repr__(self) -> str:
        return f"SpilledModels({len(self.paths)} on disk)"


def _load(path: str | None):
    if path is None:
        return None
    with open(path, "rb") as fh:
        return pickle.load(fh)


class ModelSpill:
    """A temporary folder of pickled fold models, created on first use."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.directory: str | None = None
        self._cleanup = None

    def store(self, trial_id: int, models: list) -> list | SpilledModels:
        """``models`` written to disk (as :class:`SpilledModels`), or ``models`` unchanged
        when spilling is off or fails (a full disk must not fail the search)."""
        if not self.enabled or not models or isinstance(models, SpilledModels):
            return models
        collector = self.collector(trial_id, len(models))
        for i, model in enumerate(models):
            if model is not None:
                collector.add(i, model)
        return collector.models() if collector.on_disk else models

    def write(self, trial_id: int, index: int, model) -> str | None:
        """Pickle one fold model to its own file and return the path; None when spilling is
        off or the write fails (nothing is left behind then). Freed memory goes back to the
        system afterwards: pickling a large booster allocates several times its size."""
        if not self.enabled:
            return None
        path = None
        try:
            if self.directory is None:
                self.directory = tempfile.mkdtemp(prefix="mlexpert-trials-")
                self._cleanup = weakref.finalize(self, shutil.rmtree, self.directory, True)
            path = os.path.join(self.directory, f"trial{trial_id}-fold{index}.pkl")
            with open(path, "wb") as fh:
                pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            if path is not None:
                self.discard(SpilledModels([path]))
            return None
        finally:
            release_free_memory()
        return path

    @staticmethod
    def discard(models) -> None:
        """Delete the files of spilled ``models`` (in-memory lists are left alone)."""
        if isinstance(models, SpilledModels):
            for path in models.paths:
                if path is not None:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass

    def collector(self, trial_id: int, n_folds: int) -> FoldCollector:
        return FoldCollector(self, trial_id, n_folds)

    def close(self) -> None:
        """Remove the folder and every model in it."""
        if self._cleanup is not None:
            self._cleanup()
        self.directory = None


class FoldCollector:
    """One trial's fold models, each written to disk as soon as it is fitted.

    If a write fails, the models written so far are read back and the trial keeps its
    models in memory (a full disk must not fail the search).
    """

    def __init__(self, spill: ModelSpill, trial_id: int, n_folds: int):
        self.spill, self.trial_id = spill, trial_id
        self.items: list = [None] * n_folds
        self.on_disk = spill.enabled

    def add(self, index: int, model) -> None:
        if self.on_disk:
            path = self.spill.write(self.trial_id, index, model)
            if path is not None:
                self.items[index] = path
                return
            written = self.items
            self.items = [_load(p) for p in written]
            self.spill.discard(SpilledModels(written))
            self.on_disk = False
        self.items[index] = model

    def models(self) -> list | SpilledModels:
        return SpilledModels(self.items) if self.on_disk else self.items

    def discard(self) -> None:
        """Delete what was written (a trial that failed or ran out of time)."""
        if self.on_disk:
            self.spill.discard(SpilledModels(self.items))
        self.items = [None] * len(self.items)


def _libc():
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
        return lib if lib is not None and hasattr(lib, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def release_free_memory() -> None:
    """Hand memory freed by Python and the learners back to the system (glibc keeps freed
    blocks of its per-thread arenas otherwise); a no-op elsewhere."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
