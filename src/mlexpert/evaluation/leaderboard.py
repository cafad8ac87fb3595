"""The leaderboard: one row per trial, plus the ensemble, best first."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

COLUMNS = ["rank", "model", "family", "stage", "status", "score", "score_std", "fit_time_s",
           "predict_rows_per_s", "latency_ms", "size_mb", "weight", "final_model", "params",
           "info", "reason"]


def make_leaderboard(results: list, weights: dict[str, float], ensemble: dict | None) -> pd.DataFrame:
    """Rows for every trial (ok first, by loss; then failures) and the ensemble on top."""
    rows = []
    ens = ensemble or {}
    sizes, latencies = ens.get("size_mb", {}), ens.get("member_latency_ms", {})
    if ensemble is not None:
        rows.append({"model": "ensemble", "family": "ensemble", "stage": "ensemble", "status": "ok",
                     "score": ensemble["score"], "score_std": np.nan,
                     "fit_time_s": ensemble["fit_time"], "predict_rows_per_s": ensemble["rows_per_s"],
                     "latency_ms": ensemble.get("latency_ms", np.nan),
                     "size_mb": sum(sizes.values()) if sizes else np.nan,
                     "weight": 1.0, "final_model": "", "params": json.dumps(ensemble["weights"]), "info": "",
                     "reason": "", "_loss": ensemble["loss"]})
    for r in results:
        rows.append({"model": r.name, "family": r.family, "stage": r.stage, "status": r.status,
                     "score": r.score, "score_std": r.score_std, "fit_time_s": round(r.fit_time, 3),
                     "predict_rows_per_s": r.predict_rows_per_s,
                     "latency_ms": latencies.get(r.name, np.nan), "size_mb": sizes.get(r.name, np.nan),
                     "weight": weights.get(r.name, 0.0),
                     "final_model": _final_model(r.name, ensemble),
                     "params": json.dumps(r.params, default=str), "info": json.dumps(r.info, default=str),
                     "reason": r.reason, "_loss": r.loss if r.status == "ok" else math.inf})
    frame = pd.DataFrame(rows, columns=COLUMNS + ["_loss"])
    frame["_failed"] = frame["status"] != "ok"
    frame["_ens"] = frame["model"] != "ensemble"
    frame = frame.sort_values(["_failed", "_ens", "_loss"], kind="stable")
    frame = frame.drop(columns=["_loss", "_failed", "_ens"]).reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame


def _final_model(name: str, ensemble: dict | None) -> str:
    """How an ensemble member predicts: refit on all rows, or its fold models averaged."""
    refit = (ensemble or {}).get("refit", {})
    if name not in refit:
        return ""
    if refit[name]:
        return "all rows"
    why = (ensemble or {}).get("refit_skipped", {}).get(name)
    return f"fold average ({why})" if why else "fold average"


def combined_rows_per_s(rates: list[float]) -> float:
    """Throughput of running several predictors one after another."""
    rates = [r for r in rates if r and np.isfinite(r) and r > 0]
    return 1.0 / sum(1.0 / r for r in rates) if rates else float("nan")
