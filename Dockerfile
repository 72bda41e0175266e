# syntax=docker/dockerfile:1
# Phoenix Social Gallery — production image (Cloud Run or any container host).
# Build: docker build -t phoenix-social-gallery .
# Run:   docker run -p 8080:8080 --env-file .env phoenix-social-gallery
# (No image can be built on the development machine this was written on; CI checks the file's
# references exist. See README § Deploying on Cloud Run.)

# --- build: all dependencies (native better-sqlite3, Vite), the web bundle, then prune -------
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json vite.config.ts ./
COPY scripts/build-server.mjs ./scripts/
COPY web ./web
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# --- runtime: production dependencies, the bundled server, its migrations and the web app --
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# the SQL migrations are read at start (the bundle finds them from package.json's folder)
COPY --chown=root:root src/store/sqlite/migrations ./src/store/sqlite/migrations
COPY --chown=root:root src/store/postgres/migrations ./src/store/postgres/migrations
# the app cannot change its own code; only /data (SQLite, when used) is writable
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# plain JavaScript (npm run build:server): no TypeScript loader at run time. Young-generation
# semi-spaces of 4 MB (V8's default is 16): peak memory under load 161 → 119 MB on PostgreSQL at the
# same throughput (BENCHMARKS.md, which starts the service with these very flags).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=4", "dist/server/main.mjs"]
