# syntax=docker/dockerfile:1
# One image per service, each a target of this file:
#   docker build --target watcher   -t stampede/watcher:0.1.0 .
#   docker build --target worker    -t stampede/worker:0.1.0 .
#   docker build --target dashboard -t stampede/dashboard:0.1.0 .
# Each image holds the service's workspaces from `turbo prune --docker` (TypeScript run by Node 24
# directly, docs/adr/0004) and their production dependencies only, on distroless Node 24, as
# UID 65532. packages/deploy-tests/test/image.test.ts replays these steps outside Docker and starts
# each service from the result. Keep RUN paths relative to WORKDIR (the replay maps WORKDIR only).
ARG BUILD_IMAGE=node:24.21.0-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
ARG TURBO_VERSION=2.11.11

FROM ${BUILD_IMAGE} AS source
WORKDIR /repo
COPY . .

# ---- watcher --------------------------------------------------------------------------------------
FROM source AS watcher-prune
ARG TURBO_VERSION
RUN npx --yes turbo@${TURBO_VERSION} prune @stampede/watcher --docker --out-dir pruned

FROM ${BUILD_IMAGE} AS watcher-build
WORKDIR /app
# Package manifests and the pruned lockfile first: this layer is reused until they change.
COPY --from=watcher-prune /repo/pruned/json/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
COPY --from=watcher-prune /repo/pruned/full/ ./
COPY deploy/docker/prod-tree.ts deploy/docker/healthcheck.ts ./.build/
# Drop dev-only workspaces and their dependencies, tests and build files; check what is left.
RUN node .build/prod-tree.ts @stampede/watcher && mv .build/healthcheck.ts ./healthcheck.ts && rm -rf .build

FROM ${RUNTIME_IMAGE} AS watcher
WORKDIR /app
COPY --from=watcher-build /app/ ./
ENV NODE_ENV=production HEALTH_PORT=8080
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/healthcheck.ts", "HEALTH_PORT", "/healthz"]
CMD ["services/watcher/src/main.ts"]

# ---- worker ---------------------------------------------------------------------------------------
FROM source AS worker-prune
ARG TURBO_VERSION
RUN npx --yes turbo@${TURBO_VERSION} prune @stampede/worker --docker --out-dir pruned

FROM ${BUILD_IMAGE} AS worker-build
WORKDIR /app
COPY --from=worker-prune /repo/pruned/json/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
COPY --from=worker-prune /repo/pruned/full/ ./
COPY deploy/docker/prod-tree.ts deploy/docker/healthcheck.ts ./.build/
RUN node .build/prod-tree.ts @stampede/worker && mv .build/healthcheck.ts ./healthcheck.ts && rm -rf .build

FROM ${RUNTIME_IMAGE} AS worker
WORKDIR /app
COPY --from=worker-build /app/ ./
ENV NODE_ENV=production HEALTH_PORT=8081
USER 65532:65532
EXPOSE 8081
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/healthcheck.ts", "HEALTH_PORT", "/healthz"]
CMD ["services/worker/src/main.ts"]

# ---- dashboard ------------------------------------------------------------------------------------
FROM source AS dashboard-prune
ARG TURBO_VERSION
RUN npx --yes turbo@${TURBO_VERSION} prune @stampede/dashboard --docker --out-dir pruned

FROM ${BUILD_IMAGE} AS dashboard-build
WORKDIR /app
COPY --from=dashboard-prune /repo/pruned/json/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
COPY --from=dashboard-prune /repo/pruned/full/ ./
COPY deploy/docker/prod-tree.ts deploy/docker/healthcheck.ts ./.build/
RUN node .build/prod-tree.ts @stampede/dashboard && mv .build/healthcheck.ts ./healthcheck.ts && rm -rf .build

FROM ${RUNTIME_IMAGE} AS dashboard
WORKDIR /app
COPY --from=dashboard-build /app/ ./
ENV NODE_ENV=production DASHBOARD_PORT=3000
USER 65532:65532
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/healthcheck.ts", "DASHBOARD_PORT", "/", "200-499"]
CMD ["services/dashboard/src/main.ts"]
