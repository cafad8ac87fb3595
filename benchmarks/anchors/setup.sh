#!/usr/bin/env bash
# Install the benchmark anchors, each into its own virtual environment under
# benchmarks/.venvs/ (git-ignored). None of them is a project dependency.
#
#   benchmarks/anchors/setup.sh            # all anchors
#   benchmarks/anchors/setup.sh flaml      # one
#
# Versions follow ../shared/ANCHORS.md. torch is pinned to 2.13.0 so that pip takes the
# CPU build (any other torch request pulls several GB of CUDA packages on this machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3.11}"
VENVS="benchmarks/.venvs"
mkdir -p "$VENVS"

# Packages every worker needs besides the framework: the shared protocol reads Parquet
# and scores with scikit-learn; psutil is optional.
COMMON=(pandas pyarrow scikit-learn)

install() {  # install NAME PIP-ARGS...
    local name="$1"; shift
    local venv="$VENVS/$name"
    if [[ -x "$venv/bin/python" && -f "$venv/.installed" ]]; then
        echo "[anchors] $name: already installed ($venv)"; return 0
    fi
    echo "[anchors] $name: creating $venv"
    # a half-finished venv (no .installed marker) is rebuilt from scratch
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$@" "${COMMON[@]}"
    "$venv/bin/python" -m pip freeze > "$venv/.installed"
    echo "[anchors] $name: done ($(du -sh "$venv" | cut -f1))"
}

targets=("$@")
selected() { [[ ${#targets[@]} -eq 0 ]] || [[ " ${targets[*]} " == *" $1 "* ]]; }

if selected autogluon; then
    # two steps: torch first, so the CPU build is already satisfied when autogluon resolves
    install autogluon "torch==2.13.0" \
        "autogluon.tabular[lightgbm,catboost,xgboost]==1.6.*"
fi
if selected flaml; then
    install flaml "flaml[automl]==2.7.*"
fi
