# The serving image: `vision serve` (the default command: API + dashboard on port 8000) and
# `vision worker` (a camera worker, health and metrics on port 8001). See deploy/README.md.
#
#   docker build -t vision:0.1.0 .
#   docker run --rm -p 8000:8000 -v "$PWD/vision.yaml:/etc/vision/vision.yaml:ro" vision:0.1.0
#
# ONNX Runtime runs every model: only the [postgres] extra is installed, never [train] (torch).
FROM python:3.11-slim

# opencv-python (not -headless, see pyproject.toml) loads libGL and GLib when imported.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

# Install from a build folder that is removed afterwards, so only the installed package is imported.
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY vision ./vision
RUN pip install ".[postgres]" \
    && rm -rf /src

# Detector specs and weights at /app/models (a config names them by path, e.g.
# /app/models/helmet.yaml); the example configs at /app/configs.
WORKDIR /app
COPY models ./models
COPY configs ./configs

# Non-root, numeric so that Kubernetes' runAsNonRoot can check it. The spool folder is where
# store.spool_dir points in deploy/; mount a persistent volume there.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin vision \
    && mkdir -p /var/lib/vision/spool \
    && chown -R 10001:10001 /var/lib/vision
USER 10001:10001

EXPOSE 8000 8001
# --host 0.0.0.0: the CLI's default 127.0.0.1 is unreachable from outside the container.
CMD ["vision", "serve", "/etc/vision/vision.yaml", "--host", "0.0.0.0"]
