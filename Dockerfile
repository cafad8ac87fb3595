# mlexpert model server: CPU only, non-root, serves the model directory at /models.
#
#   docker build -t mlexpert-serve .
#   docker build -t mlexpert-serve:onnx --build-arg EXTRAS=serve,onnx .
#   docker build -t mlexpert-serve:nn   --build-arg EXTRAS=serve,nn .    # + torch 2.13.0 (CPU)
#
#   docker run --rm -p 8080:8080 -e MLEXPERT_API_KEY \
#       -v "$PWD/out/churn-model:/models/churn:ro" mlexpert-serve
#
# See docs/deploy.md for the environment variables, probes, workers and Kubernetes.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- build: a virtualenv in /opt/venv
FROM ${PYTHON_IMAGE} AS build

# Comma-separated extras of mlexpert: serve (required here), onnx, nn.
ARG EXTRAS=serve
# torch comes from the PyTorch CPU index when EXTRAS has nn: the PyPI wheel pulls in CUDA.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src

RUN case ",${EXTRAS}," in \
        *,serve,*) ;; \
        *) echo "EXTRAS must include serve (got '${EXTRAS}')" >&2; exit 1 ;; \
    esac \
 && case ",${EXTRAS}," in \
        *,nn,*) pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" ;; \
    esac \
 && pip install "/build[${EXTRAS}]" \
 && if pip list --format=freeze | grep -iE '^(nvidia-|cuda-|triton==)'; then \
        echo "CUDA packages were installed; this image is CPU only" >&2; exit 1; \
    fi \
 && mlexpert --help > /dev/null

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}

# libgomp1: the OpenMP runtime LightGBM loads (not in the slim image).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mlexpert \
 && useradd --system --uid 10001 --gid mlexpert --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mlexpert \
 && install -d -o 10001 -g 10001 /models

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib

# Mount model directories read-only at /models/NAME (the folder name is the model's name;
# NAME/VERSION/ for versions), or copy them in from a derived image (docs/deploy.md).
# /models belongs to the server's user: serving a folder keeps its store (prediction log,
# feedback) in /models/mlexpert.db unless MLEXPERT_STORE names another (docs/deploy.md).
WORKDIR /srv
USER 10001:10001
EXPOSE 8080

# Ready once every model is loaded; slim has no curl, so Python asks. The probe can take
# seconds under heavy load (docs/deploy.md, "Health checks"), hence the long timeout.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v2/health/ready', timeout=9)"]

# The API key comes from MLEXPERT_API_KEY (docker run -e MLEXPERT_API_KEY ...), never from
# the image. Other options: replace the command (docker run IMAGE mlexpert serve /models
# --host 0.0.0.0 --port 8080 --workers 2); keep port 8080, which the HEALTHCHECK asks.
CMD ["mlexpert", "serve", "/models", "--host", "0.0.0.0", "--port", "8080"]
