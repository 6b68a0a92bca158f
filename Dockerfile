# syntax=docker/dockerfile:1
# Build stage: compiles librdkafka (through @confluentinc/kafka-javascript) against Debian's libraries, builds the
# TypeScript, then drops the dev dependencies. Nothing of this stage but the result reaches the runtime image.
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev \
      libcurl4-openssl-dev g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV CKJS_LINKING=dynamic
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage: only the shared libraries librdkafka links, the built service and its production dependencies.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libsasl2-2 libsasl2-modules zlib1g libzstd1 liblz4-1 libcurl4 ca-certificates \
      libjemalloc2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0
COPY --from=build --chown=node:node /app/package.json /app/openapi.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/ui ./ui
COPY --from=build --chown=node:node /app/scripts/serve ./scripts/serve
USER node
EXPOSE 8000
# Over HTTPS when HTTPS_CERT_FILE is set (on loopback, without verifying the certificate: this asks whether the process
# serves, not who it is). With HTTPS_CLIENT_CA_FILE it has no client certificate to show: see README, Security.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require(process.env.HTTPS_CERT_FILE?'https':'http').get({host:'127.0.0.1',port:process.env.PORT||8000,path:'/healthz',rejectUnauthorized:false},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# SIGTERM lets in-flight requests finish, closes consumers and flushes the producer before the process exits.
STOPSIGNAL SIGTERM
# scripts/serve execs node (PID 1 receives the signals) with jemalloc as the allocator (see the script).
CMD ["sh", "scripts/serve"]
