# syntax=docker/dockerfile:1
# One image for every role: `serve` (8000), `ib-host` (5001), `training-host` (5002).
# Not yet built here (no container engine on the development machines): see README.

FROM rust:1-bookworm AS builder
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
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/ktrdr ktrdr
# The binary's rpath points into the venv's torch/lib; keep the same paths.
COPY --from=builder /opt/venv/lib/python3.11/site-packages/torch/lib /opt/venv/lib/python3.11/site-packages/torch/lib
COPY --from=builder /opt/venv/lib/python3.11/site-packages/nvidia /opt/venv/lib/python3.11/site-packages/nvidia
# `ktrdr` (the client) execs `ktrdr-server` (libtorch linked) for the server roles.
COPY --from=builder /usr/local/bin/ktrdr /usr/local/bin/ktrdr-server /usr/local/bin/
COPY config /etc/ktrdr/config
USER ktrdr
WORKDIR /var/lib/ktrdr
ENV KTRDR_HOST=0.0.0.0 KTRDR_DATA_DIR=/var/lib/ktrdr/data KTRDR_MODELS_DIR=/var/lib/ktrdr/models \
    KTRDR_STRATEGIES_DIR=/etc/ktrdr/config/strategies
EXPOSE 8000 5001 5002
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/api/v1/health || exit 1
ENTRYPOINT ["ktrdr"]
CMD ["serve"]
