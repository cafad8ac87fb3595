"""The monitoring report: ``monitor.json`` (the :func:`run_monitor` result) and
``monitor.html`` (a self-contained page: a plain-language summary, the alerts, then per
model version the charts over time and the tables), both written atomically."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..io import write_text
from ..report._format import num
from . import _charts
from .runner import json_safe

TEMPLATES = Path(__file__).parent / "templates"
REPORT_CSS = Path(__file__).parents[1] / "report" / "templates" / "report.css"
JSON_FILE, HTML_FILE = "monitor.json", "monitor.html"


def write_monitor_report(result: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``monitor.json`` and ``monitor.html`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    paths = {"json": out_dir / JSON_FILE, "html": out_dir / HTML_FILE}
    write_text(to_json(result), paths["json"])
    write_text(render_html(result), paths["html"])
    return paths


def to_json(result: dict) -> str:
    """The result as strict JSON (NaN and infinities as null)."""
    return json.dumps(json_safe(result), indent=1, allow_nan=False) + "\n"


def render_html(result: dict) -> str:
    """The report page for a :func:`run_monitor` result."""
    from .. import __version__

    score, threshold = drift_score(result)
    charts = [_model_charts(m, score, threshold, i) for i, m in enumerate(result["models"])]
    features = [_sorted_features(m, score) for m in result["models"]]
    return _template().render(r=result, charts=charts, features=features, fmt=_fmt, when=_when, score=score,
                              version=__version__, css=REPORT_CSS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("monitor.html")


def drift_score(result: dict) -> tuple[str, float | None]:
    """The per-feature drift score the verdict thresholds (the share of rows that moved,
    ``shift``, when the drift statistics provide it; else PSI) and its threshold."""
    t = result["thresholds"]["drift"]
    if "min_shift" in t:
        return "shift", t["min_shift"]
    return "psi", t.get("psi")


def _model_charts(entry: dict, score: str, threshold, i: int) -> list[dict]:
    """The figures of one model version; a chart that cannot be drawn is left out with a note."""
    specs = [
        ("drift", lambda: _charts.drift_scores(entry, score, threshold, f"m{i}-drift"),
         "Drift score of the most changed features in each window; circled points are "
         "windows where the feature drifted. Under the dashed line a change is too small to "
         "flag."),
        ("predictions", lambda: _charts.predictions(entry, f"m{i}-pred"),
         "What the model predicted in each window; dashed lines mark the validation "
         "(out-of-fold) distribution at training."),
        ("performance", lambda: _charts.performance(entry, f"m{i}-perf"),
         "The model's metric on predictions whose outcome was fed back, with its 95% "
         "interval, against the validation estimate (dashed) and the decay threshold (dotted)."),
        ("rows", lambda: _charts.row_counts(entry, f"m{i}-rows"),
         "Predictions per window, and how many of them have a known outcome."),
    ]
    out = []
    for name, draw, caption in specs:
        try:
            svg = draw()
        except Exception as exc:  # noqa: BLE001 - one bad chart must not sink the report
            entry.setdefault("notes", []).append(f"The {name} chart could not be drawn ({exc}).")
            continue
        if svg:
            out.append({"chart": name, "svg": svg, "caption": caption})
    return out


def _sorted_features(entry: dict, score: str) -> list[dict]:
    features = (entry.get("drift") or {}).get("features") or []
    return sorted(features, key=lambda f: (not f.get("drifted"), -(f.get(score) or 0.0)))


def _fmt(value) -> str:
    """A number for people: 4 significant digits, scientific when tiny (p-values)."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and value and abs(value) < 1e-3:
        return f"{value:.2g}"
    return num(value, 4)


def _when(stamp: str | None) -> str:
    """An ISO UTC time as ``YYYY-MM-DD HH:MM`` (seconds only when not zero)."""
    if not stamp:
        return ""
    text = stamp.replace("T", " ").removesuffix("Z")
    return text[:-3] if text.endswith(":00") else text
