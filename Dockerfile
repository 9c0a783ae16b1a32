# syntax=docker/dockerfile:1
#
# keywarden container image.
#
#   docker build -t keywarden:0.1.0 .
#   docker run --rm -p 8080:8080 -e REDIS_URL=redis://redis:6379 \
#     -e KEYWARDEN_SESSION__SECRET_FILE=/var/run/secrets/keywarden/session-secret \
#     -v "$PWD/secrets:/var/run/secrets/keywarden:ro" keywarden:0.1.0
#
# The final stage contains only production node_modules, compiled dist/,
# config/ (YAML defaults), openapi/ (served at /openapi.json), package.json and a warmed compile
# cache. It runs as the unprivileged `node` user (uid/gid 1000) and writes nothing to disk, so
# it works with a read-only root filesystem.

ARG NODE_VERSION=24

# ---------------------------------------------------------------------------
# build: full dependency install + TypeScript compile -> dist/
# ---------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY src/ ./src/
# Only the server: the client package (client/) is not part of the image.
RUN npm run build:server

# ---------------------------------------------------------------------------
# deps: production-only node_modules
# ---------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS runtime
ARG NODE_VERSION
LABEL org.opencontainers.image.title="keywarden" \
      org.opencontainers.image.description="Backend-for-frontend credential vending: sign-in in, scoped short-lived AWS credentials and S3 presigned URLs out." \
      org.opencontainers.image.licenses="Apache-2.0"

ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app

COPY --from=deps  --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root config/ ./config/
COPY --chown=root:root openapi/ ./openapi/
COPY --chown=root:root package.json ./

# Node's compile cache, warmed here with every module the service loads at start-up: a
# container then starts from compiled code (src/main.ts switches the cache on). The directory
# stays read-only to the runtime user; modules first loaded later are simply compiled.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN node --input-type=module -e "await import('/app/dist/app.js'); await import('/app/dist/config/load.js'); await import('/app/dist/store/create-store.js')"

# Application files are owned by root and only readable by the runtime user.
USER node

EXPOSE 8080

# Kubernetes ignores HEALTHCHECK (it uses the chart's probes); this is for
# plain docker / compose. Uses the global fetch of Node 24, no curl needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node handles SIGTERM itself (stop accepting, drain in-flight requests within
# server.shutdownGraceMs, exit 0). Exec form below keeps node as PID 1 so it
# receives the signal directly - no shell wrapper, no npm.
#
# The two V8 flags bound the heap's growth under load: the young generation to 16 MB per
# semi-space, and each old-generation step to 1.5x. Without them RSS climbs past 330 MB under
# load with about 30 MB live; with them it stays near 160 MB at no CPU cost measured by
# bench/ (docs/operations.md, "Memory"). package.json's start:dist uses the same flags.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=50", "dist/main.js"]
