# syntax=docker/dockerfile:1
# A static jindou on distroless, running as an unprivileged user, data in the
# /data volume, healthy once /readyz answers 200.
#
#   docker build -t jindou .
#   docker run -p 5100:5100 -p 5200:5200 -p 5001:5001 -v jindou-data:/data jindou
#
# The binary is the one `make static` builds (the same target runs here); the
# chat demo's script is bundled by `make web` in the first stage.

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN bash build.sh

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist/ web/dist/
ARG VERSION=docker
# SKIP_WEB: the web stage already bundled web/dist.
RUN make static VERSION="$VERSION" SKIP_WEB=1 && mkdir -p /data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/jindou-static /usr/local/bin/jindou
COPY --from=build --chown=65532:65532 /data /data
USER 65532:65532
ENV JINDOU_DATA_DIR=/data \
    JINDOU_LOG_FORMAT=json
VOLUME ["/data"]
# WKProto over TCP, WKProto over WebSocket, the HTTP API (/web, /demo, /metrics).
EXPOSE 5100 5200 5001
HEALTHCHECK --interval=10s --timeout=4s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/jindou", "healthcheck", "--url", "http://127.0.0.1:5001/readyz"]
ENTRYPOINT ["/usr/local/bin/jindou"]
CMD ["run"]
