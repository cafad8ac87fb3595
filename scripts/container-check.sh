#!/usr/bin/env bash
# Build the repository's Dockerfile with podman (no Docker daemon needed) and check the
# image end to end: serve a freshly trained churn model, ask /v2/health/ready, POST /predict,
# run the HEALTHCHECK, check the uid (10001) and that no CUDA package got in.
#
#   sudo scripts/container-check.sh              # EXTRAS=serve
#   sudo scripts/container-check.sh serve,onnx   # + model.onnx, served with MLEXPERT_RUNTIME=onnx
#
# Run by hand, as root (rootful podman, debootstrap): about 5 minutes on 2 cores, about 2 GB
# of disk, network to a Debian mirror and PyPI. Not part of `make test`. Since Docker Hub may
# be out of reach, the base image is a stand-in for python:3.11-slim: Debian bookworm
# (debootstrap) with its python3 (3.11), passed as --build-arg PYTHON_IMAGE; the Dockerfile
# itself is built unchanged. Everything it creates is removed on exit.
# Env: PORT (host port, default 18080), DEBIAN_MIRROR, PYTHON (the venv's, for `mlexpert fit`).
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS=${1:-serve}
PORT=${PORT:-18080}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
MLEXPERT=${MLEXPERT:-.venv/bin/mlexpert}
TAG=container-check
source scripts/apt-lib.sh
say() { echo "$TAG: $*" >&2; }

[ "$(id -u)" -eq 0 ] || fail "run as root (rootful podman and debootstrap)"
[ -x "$MLEXPERT" ] || fail "$MLEXPERT not found: set MLEXPERT to an installed mlexpert CLI"
for PACKAGE in podman runc debootstrap curl; do
    command -v "$PACKAGE" >/dev/null 2>&1 || { apt_sudo "$PACKAGE"; apt_install; }
done

ID=$$
WORK=$(mktemp -d "/tmp/$TAG.XXXXXX")
BASE=localhost/$TAG-base:$ID IMAGE=localhost/$TAG:$ID CTR=$TAG-$ID
cleanup() {
    podman rm -f "$CTR" >/dev/null 2>&1 || true
    podman rmi -f "$IMAGE" "$BASE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# runc, not crun: crun refuses hybrid cgroup v1/v2 hosts. Explicit ulimits: by default podman
# raises nofile/nproc past the host's hard limits, which fails without CAP_SYS_RESOURCE.
NOFILE=$(ulimit -Hn); [ "$NOFILE" = unlimited ] && NOFILE=1048576
ULIMITS=(--ulimit "nofile=$NOFILE:$NOFILE" --ulimit nproc=4096:4096)
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$WORK/containers.conf

say "stand-in base image: debootstrap bookworm + python3 (about a minute)"
ROOT=$WORK/rootfs
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 5 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
ln -sf python3 "$ROOT/usr/bin/python"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$MIRROR" "$MIRROR" >"$ROOT/etc/apt/sources.list"
# A TLS-intercepting proxy's CA (sandboxes, corporate networks) must reach pip in the build.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null 2>&1  # quiet: a harmless rehash warning
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$ROOT/etc/pip.conf"
fi
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb
tar -C "$ROOT" -c --numeric-owner . \
    | podman import -q --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$BASE" >/dev/null
rm -rf "$ROOT"

say "training the churn model (20 s)"
MODEL=$WORK/models/churn
# No mlp: the image has no torch unless EXTRAS has nn (which needs the PyTorch index), and
# the server refuses to start with a model whose libraries are missing.
# No catboost for onnx: its categorical statistics have no ONNX form.
FAMILIES=lightgbm,catboost,xgboost,linear,extra_trees,random_forest,knn RUNTIME=python
[[ ",$EXTRAS," == *,onnx,* ]] && FAMILIES=${FAMILIES/catboost,/} RUNTIME=onnx
"$MLEXPERT" fit examples/churn.csv --target churned --time 20 --quiet --out "$MODEL" \
    --families "$FAMILIES"
# no chmod: fit writes the directory with the umask's mode, so uid 10001 can read the mount
if [ "$RUNTIME" = onnx ]; then
    "$MLEXPERT" export "$MODEL" --data examples/churn.csv --fallback members >/dev/null
fi

say "podman build --build-arg EXTRAS=$EXTRAS (a few minutes)"
start=$SECONDS
# --format docker keeps HEALTHCHECK (the OCI format drops it); --layers=false leaves no cache.
podman build --format docker --layers=false --runtime runc "${ULIMITS[@]}" \
    --build-arg "PYTHON_IMAGE=$BASE" --build-arg "EXTRAS=$EXTRAS" -t "$IMAGE" . \
    >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; fail "podman build failed"; }
BUILD_S=$((SECONDS - start))
SIZE=$(podman image inspect "$IMAGE" --format '{{.Size}}')
HC=$(podman image inspect "$IMAGE" --format '{{json .Config.Healthcheck}}')
[[ $HC == *v2/health/ready* ]] || fail "the image has no HEALTHCHECK ($HC)"

say "running the image on 127.0.0.1:$PORT"
KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe())')
t0=$(date +%s.%N)
MLEXPERT_API_KEY=$KEY podman run -d --name "$CTR" -p "127.0.0.1:$PORT:8080" \
    -e MLEXPERT_API_KEY -e "MLEXPERT_RUNTIME=$RUNTIME" \
    -v "$MODEL:/models/churn:ro" "$IMAGE" >/dev/null 2>"$WORK/run.log" \
    || { cat "$WORK/run.log" >&2; fail "podman run failed"; }
READY_S=
for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v2/health/ready" 2>/dev/null; then
        READY_S=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')"); break
    fi
    [ "$(podman inspect -f '{{.State.Running}}' "$CTR")" = true ] || break
    sleep 0.5
done
[ -n "$READY_S" ] || { podman logs "$CTR" 2>&1 | tail -n 20 >&2; fail "not ready after 120 s"; }

RECORD=$(python3 -c 'import csv, json, sys
row = next(csv.DictReader(open("examples/churn.csv"))); row.pop("churned")
print(json.dumps({k: (v if v != "" else None) for k, v in row.items()}))')
URL=http://127.0.0.1:$PORT/predict
PRED=$(curl -fsS "$URL" -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -d "$RECORD") \
    || { podman logs "$CTR" 2>&1 | tail -n 20 >&2; fail "POST /predict failed"; }
python3 -c 'import json, sys; p = json.loads(sys.argv[1])["predictions"][0]
assert p["prediction"] in ("yes", "no") and abs(sum(p["probabilities"].values()) - 1) < 1e-6, p' \
    "$PRED" || fail "unexpected prediction: $PRED"
NOKEY=$(curl -s -o /dev/null -w '%{http_code}' "$URL" -H 'Content-Type: application/json' -d "$RECORD")
[ "$NOKEY" = 401 ] || fail "POST /predict without the key answered $NOKEY, not 401"

podman healthcheck run "$CTR" >/dev/null 2>&1 || fail "the HEALTHCHECK command failed"
USER_ID=$(podman top "$CTR" huser | awk 'NR == 2 {print $1}')
[ "$USER_ID" = 10001 ] || fail "the server runs as uid $USER_ID, not 10001"
CUDA=$(podman exec "$CTR" sh -c 'pip list --format=freeze 2>/dev/null | grep -iE "^(nvidia-|cuda-|triton==)";
    find / -xdev \( -name "libcuda*" -o -name "libcudart*" -o -name "libcudnn*" \) 2>/dev/null' || true)
[ -z "$CUDA" ] || fail "CUDA packages or libraries in the image: $CUDA"

echo "image:       EXTRAS=$EXTRAS, $(python3 -c "print(f'{$SIZE / 1e9:.2f} GB')") ($SIZE bytes), built in ${BUILD_S} s"
echo "ready:       ${READY_S} s after podman run (runtime $RUNTIME)"
echo "prediction:  $PRED"
echo "checks:      HEALTHCHECK ok, uid 10001, no key -> 401, no CUDA packages"
