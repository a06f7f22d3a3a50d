# Herald: `docker build -t herald:0.1.0 .`, then e.g.
#   docker run --rm herald:0.1.0 connect-health --connect-url http://connect:8083 --host 0.0.0.0
# Build stage: full install (the prepare script compiles TypeScript), then drop dev packages.
FROM node:20-slim AS build
# better-sqlite3 downloads a prebuilt binary; the compilers are the fallback when none fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY proto ./proto
RUN npm ci && npm prune --omit=dev

# Runtime stage: only what runs, owned by root and read-only to the non-root user.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
RUN chmod 0755 dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/herald
# The node image's unprivileged user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081
ENTRYPOINT ["herald"]
CMD ["--help"]
