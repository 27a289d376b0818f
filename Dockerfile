# Heldar on Node 20 / Debian bookworm slim with ffmpeg. Data (SQLite, recordings, secret key) in /data.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
COPY scripts ./scripts
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg tini && rm -rf /var/lib/apt/lists/* \
  && useradd --system --create-home --home-dir /home/heldar --uid 10001 heldar \
  && mkdir -p /data && chown heldar:heldar /data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
ENV NODE_ENV=production \
    HELDAR_DATA_DIR=/data \
    HELDAR_DATABASE_URL=sqlite:///data/heldar.db \
    HELDAR_API_HOST=0.0.0.0 \
    HELDAR_API_PORT=8080
VOLUME ["/data"]
EXPOSE 8080
USER heldar
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Migrations run at start, before the server listens.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/heldar.js"]
