# soc2-bot's GitHub App (npm start) as a container. Untested here: no Docker engine runs on the
# machines this project is built on (README: Docker).
#   docker build -t soc2-bot .
#   docker run --env-file .env -e DATABASE_URL=postgres://… -p 3000:3000 soc2-bot
# The same image runs the command line: docker run --env-file .env soc2-bot node bin/soc2-bot.js audit …
# (not the demo: its simulated GitHub needs the development dependencies).

# Dependencies are installed in their own stage, without the development ones: the image runs the
# TypeScript sources through tsx, a runtime dependency, so there is no build step and no dev tooling.
FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json \
    SOC2_LEDGER_DIR=/data/ledger
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json app.yml ./
COPY bin ./bin
COPY src ./src
COPY policies ./policies
# The embedded ledger's folder belongs to the unprivileged user the image's node provides; mount a
# volume there, or set DATABASE_URL (the ledger then lives in PostgreSQL and /data stays empty).
RUN mkdir -p /data/ledger && chown -R node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Probot answers GET /ping with "PONG" once the server listens.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ping').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--import", "tsx", "src/app/server.ts"]
