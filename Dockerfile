# syntax=docker/dockerfile:1
# One image for every role; the command picks it:
#   serve (8000) | ib-host (5001) | training-host (5002)
# Built and run with docker-compose.yml beside this file. Not built on the development
# machines (no container engine there): scripts/test lints this file with hadolint and checks
# that the runtime stage carries every library the release binary needs (see README).

FROM rust:1-bookworm AS builder
# python3-venv: the venv that brings PyTorch's libtorch (pip, from the Python package index).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/*
# PyTorch 2.13.0 provides the libtorch that tch 0.26 links against.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir torch==2.13.0
ENV PATH=/opt/venv/bin:$PATH LIBTORCH_USE_PYTORCH=1 CARGO_TARGET_DIR=/build/target
WORKDIR /build/src
COPY . .
RUN cargo build --release --locked --bin ktrdr --bin ktrdr-server \
 && cp /build/target/release/ktrdr /build/target/release/ktrdr-server /usr/local/bin/

FROM debian:bookworm-slim AS runtime
# curl: the health check. libstdc++, libgcc and libc come with the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/ktrdr ktrdr
# ktrdr-server's rpath points into the venv's torch/lib (and from there to nvidia/): the same
# paths as in the builder. Only these two folders of the venv are kept.
COPY --from=builder /opt/venv/lib/python3.11/site-packages/torch/lib /opt/venv/lib/python3.11/site-packages/torch/lib
COPY --from=builder /opt/venv/lib/python3.11/site-packages/nvidia /opt/venv/lib/python3.11/site-packages/nvidia
# `ktrdr` (the client, no libtorch) execs `ktrdr-server` for the server roles.
COPY --from=builder /usr/local/bin/ktrdr /usr/local/bin/ktrdr-server /usr/local/bin/
COPY config /etc/ktrdr/config
USER 10001
WORKDIR /var/lib/ktrdr
# Inside the container every role listens on all interfaces; the compose file publishes the
# ports on 127.0.0.1 only. KTRDR_HEALTH_URL: the role's health endpoint (compose sets it).
ENV KTRDR_HOST=0.0.0.0 \
    KTRDR_DATA_DIR=/var/lib/ktrdr/data \
    KTRDR_MODELS_DIR=/var/lib/ktrdr/models \
    KTRDR_STRATEGIES_DIR=/etc/ktrdr/config/strategies \
    KTRDR_HEALTH_URL=http://127.0.0.1:8000/api/v1/health
VOLUME ["/var/lib/ktrdr/data", "/var/lib/ktrdr/models"]
EXPOSE 8000 5001 5002
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD ["sh", "-c", "curl -fsS \"$KTRDR_HEALTH_URL\" > /dev/null"]
ENTRYPOINT ["ktrdr"]
CMD ["serve"]
