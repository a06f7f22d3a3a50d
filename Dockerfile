# Herald: `docker build -t herald:0.1.0 --build-arg SOURCE_URL=<repository URL> .`, then e.g.
#   docker run -d -p 8080:8080 -v herald-data:/data -e HERALD_API_TOKENS=<token>[,<token>...] herald:0.1.0 serve
#   docker run --rm herald:0.1.0 connect-health --connect-url http://connect:8083 --host 0.0.0.0
# `serve` listens on 0.0.0.0 (a port mapping reaches nothing on loopback) and, with
# HERALD_REQUIRE_TOKENS=true, refuses to start without HERALD_API_TOKENS: the container never
# accepts open writes (docs/security.md, "Container").
#
# Both stages use the same full version tag, so the native better-sqlite3 binary built or
# fetched in the first runs on the same Node.js in the second. Pin by digest as well where the
# build can look one up (`docker buildx imagetools inspect node:20.20.2-bookworm-slim`, then
# `FROM node:20.20.2-bookworm-slim@sha256:...`); none is written here because it was not
# looked up against the registry.

# Build stage: full install (the prepare script compiles TypeScript), then drop dev packages.
FROM node:20.20.2-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary; the compilers are the fallback when none fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY proto ./proto
COPY scripts ./scripts
RUN npm ci && npm prune --omit=dev

# Runtime stage: only what runs, owned by root and read-only to the non-root user; the one
# writable place is /data.
FROM node:20.20.2-bookworm-slim
# The repository URL is a build argument: package.json names no repository.
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="herald" \
      org.opencontainers.image.description="Publishes lifecycle and state-change events to Kafka, NATS, RabbitMQ and webhooks, with a durable SQL outbox, an event store and a REST API." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="0.1.0"
# Bind all interfaces (the container's own network namespace) but require write tokens, and
# keep the SQLite store on the volume.
ENV NODE_ENV=production \
    HERALD_HOST=0.0.0.0 \
    HERALD_REQUIRE_TOKENS=true \
    HERALD_DB=sqlite:/data/herald.db
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY LICENSE ./LICENSE
COPY docker/healthcheck.mjs ./healthcheck.mjs
# /data belongs to the runtime user: a new named volume takes this ownership; a bind-mounted
# host directory keeps its own, so give it to 1000:1000 on the host.
RUN chmod 0755 dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/herald \
    && mkdir -p /data && chown 1000:1000 /data && chmod 0750 /data
VOLUME /data
# The node image's unprivileged user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081
# `serve`: GET /healthz on its port; other commands have no /healthz and always pass.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["herald"]
CMD ["--help"]
