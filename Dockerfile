# The OnBehalf team gateway (docs/team-mode.md). Build from the repository root:
#   docker build -t onbehalf-gateway .
#   docker run -p 8787:8787 --env-file gateway.env onbehalf-gateway
# Stage 1 bundles src/gateway into dist/gateway.js; stage 2 holds that file and the npm
# packages it loads at run time (installed without dev dependencies or install scripts).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.base.json tsconfig.json esbuild.mjs ./
COPY src ./src
RUN node esbuild.mjs --production --gateway-only

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    ONBEHALF_GATEWAY_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force \
 && mkdir -p /data && chown node:node /data
COPY --from=build /app/dist/gateway.js ./dist/gateway.js
# PGlite's data (when DATABASE_URL is not set) lives here; mount a volume to keep it.
VOLUME ["/data"]
USER node
EXPOSE 8787
# /healthz: the process answers. Load balancers should route on /readyz (the database answers too).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) finishes requests in flight, then exits; give it the default 10 s or more.
STOPSIGNAL SIGTERM
CMD ["node", "dist/gateway.js"]
