"""Save and load a model directory.

Layout (all paths relative, so the directory can be moved or copied)::

    model.pkl          the FittedPipeline (pickle)
    schema.json        input columns and their kinds
    leaderboard.csv    every trial
    manifest.json      format version, versions, task, metric, score, seed, data fingerprint,
                       and the fit settings (what a retrain repeats)
    reference.json     the training data's profile, for drift monitoring (mlexpert.monitoring)
    checksums.sha256   SHA-256 of the files above (``sha256sum -c`` format)
    report.html/.md/.json  the report (:mod:`mlexpert.report`), derived from the files
                       above and rewritten by ``mlexpert report``: not checksummed

Saving writes a temporary sibling directory and renames it into place, so a crash never
leaves a half-written model. Loading verifies every checksum before unpickling.
Security: model.pkl is a pickle; only load model directories you trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .._version import __version__
from ..exceptions import ArtifactError, IncompatibleArtifactError

FORMAT_VERSION = 1
CHECKSUMS = "checksums.sha256"
MANIFEST = "manifest.json"
MODEL = "model.pkl"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _ByteCounter:
    """A write-only file that counts bytes instead of keeping them."""

    def __init__(self) -> None:
        self.n = 0

    def write(self, data) -> int:
        size = memoryview(data).nbytes  # protocol 5 may hand over a PickleBuffer
        self.n += size
        return size


def pickled_size(obj) -> int:
    """Bytes ``obj`` takes in model.pkl, measured without holding the pickle in memory."""
    counter = _ByteCounter()
    pickle.dump(obj, counter, protocol=pickle.HIGHEST_PROTOCOL)
    return counter.n


def saved_manifest(manifest: dict) -> dict:
    """The manifest as manifest.json holds it: with the format and mlexpert versions."""
    return {"format_version": FORMAT_VERSION, "mlexpert_version": __version__, **manifest}


def save_bundle(directory: str | os.PathLike, pipeline, manifest: dict,
                leaderboard: pd.DataFrame, extra: dict[str, str] | None = None) -> Path:
    """Write the model directory atomically; an existing model directory is replaced.
    ``extra`` maps more file names to their text (checksummed like the rest)."""
    target = Path(directory).resolve()
    if target.exists() and not (target / MANIFEST).exists() and any(target.iterdir()):
        raise ArtifactError(
            f"{str(directory)!r} exists and is not an mlexpert model directory; refusing to "
            "overwrite it. Choose another --out path or empty that folder."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _chmod_as_umask(tmp)  # mkdtemp makes it 0700: others (a container's user) could not read it
        with open(tmp / MODEL, "wb") as fh:
            pickle.dump(pipeline, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / "schema.json").write_text(json.dumps(pipeline.schema.to_dict(), indent=2, default=str))
        leaderboard.to_csv(tmp / "leaderboard.csv", index=False)
        (tmp / MANIFEST).write_text(json.dumps(saved_manifest(manifest), indent=2, default=str))
        for name, text in (extra or {}).items():
            (tmp / name).write_text(text)
        lines = [f"{_sha256(tmp / name)}  {name}" for name in sorted(os.listdir(tmp))]
        (tmp / CHECKSUMS).write_text("\n".join(lines) + "\n")
        _replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _chmod_as_umask(path: Path) -> None:
    """Give a directory the mode a plain ``mkdir`` would have (0o777 less the umask)."""
    os.chmod(path, 0o777 & ~_umask())


def _umask() -> int:
    try:  # Linux: read it without setting it (os.umask is process-wide, racy with threads)
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _replace(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target``; an old model directory is removed only after the swap."""
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(directory: str | os.PathLike) -> dict:
    """Verify checksums and the format version; return the manifest."""
    root = Path(directory)
    if not root.is_dir():
        raise ArtifactError(
            f"Model directory {str(directory)!r} does not exist. Train one with "
            "`mlexpert fit DATA --target COL --out DIR`."
        )
    sums = root / CHECKSUMS
    if not sums.exists():
        raise ArtifactError(
            f"{str(directory)!r} is not a complete mlexpert model directory ({CHECKSUMS} is "
            "missing). Re-run `mlexpert fit ... --out` to recreate it."
        )
    for line in sums.read_text().splitlines():
        expected, name = line.split(maxsplit=1)
        path = root / name
        if not path.exists():
            raise ArtifactError(f"Model file {name!r} is missing from {str(directory)!r}; "
                                "the directory is incomplete. Copy it again or retrain.")
        if _sha256(path) != expected:
            raise ArtifactError(
                f"Checksum mismatch for {name!r} in {str(directory)!r}: the file was modified "
                "or truncated after saving. Restore the original copy or retrain."
            )
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Cannot read {MANIFEST} in {str(directory)!r}: {exc}.") from None
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IncompatibleArtifactError(
            f"{str(directory)!r} uses model format {version!r} (written by mlexpert "
            f"{manifest.get('mlexpert_version')}); this mlexpert {__version__} reads formats up to "
            f"{FORMAT_VERSION}. Upgrade with `pip install -U mlexpert`."
        )
    return manifest


def load_bundle(directory: str | os.PathLike):
    """Return ``(pipeline, manifest, leaderboard)`` after verifying the directory."""
    manifest = read_manifest(directory)
    root = Path(directory)
    try:
        with open(root / MODEL, "rb") as fh:
            pipeline = pickle.load(fh)
    except (ImportError, AttributeError, ModuleNotFoundError) as exc:
        raise IncompatibleArtifactError(
            f"Cannot load {MODEL} from {str(directory)!r}: {exc}. It was written with "
            f"{manifest.get('libraries', {})}; install matching library versions."
        ) from None
    _check_requirements(pipeline, directory)
    leaderboard = pd.read_csv(root / "leaderboard.csv")
    return pipeline, manifest, leaderboard


def _check_requirements(pipeline, directory) -> None:
    """Refuse a model whose members need a library that is not installed here (it would
    load, then fail on every prediction)."""
    from ..exceptions import MissingDependencyError
    from ..models.registry import get_family

    for member in getattr(pipeline, "members", []):
        family = get_family(member.family)
        missing = family.missing_requirements()
        if missing:
            hint = f"pip install 'mlexpert[{family.extra}]'" if family.extra else \
                f"pip install {' '.join(missing)}"
            raise MissingDependencyError(
                f"Model {str(directory)!r} has a {family.name} member ({member.name}) that needs "
                f"{', '.join(missing)}, which is not installed. Install it with `{hint}`, or "
                "retrain without that family (--families).")
