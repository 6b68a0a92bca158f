# The service's image. Two stages: the build stage compiles librdkafka (through @confluentinc/kafka-javascript)
# against Debian's libraries and builds the TypeScript; the runtime stage holds only the shared libraries librdkafka
# links, the built service and its production dependencies.
#
# The base images are build arguments: the official ones by default (a laptop, CI with Docker Hub), or stand-ins of
# the same Debian release behind a mirror or where no registry is reachable (scripts/containers assembles them from
# Debian's packages and the npm registry). BUILD_IMAGE: Node 20 at /usr/local (bin/node, include/node) with npm.
# RUNTIME_IMAGE: plain Debian bookworm; it gets the build image's node binary alone, not npm nor Node's headers
# (73 MB the service never uses), and a `node` user (uid 1000).
#   docker build -t kosha-kafka-connector .
#   docker build --network host --build-arg BUILD_IMAGE=kosha-local/node:20-bookworm-slim \
#     --build-arg RUNTIME_IMAGE=kosha-local/debian:bookworm-slim -t kosha-kafka-connector .
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl-dev libsasl2-dev zlib1g-dev \
      libzstd-dev liblz4-dev libcurl4-openssl-dev g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# librdkafka against the system's OpenSSL, SASL, zstd and lz4; node-gyp takes Node's headers from the image
# (/usr/local/include/node) instead of downloading them.
ENV CKJS_LINKING=dynamic npm_config_nodedir=/usr/local
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
# Then only what runs: production dependencies, and of the Kafka client its JavaScript, its addon and the librdkafka
# it built (not librdkafka's sources and objects, about 200 MB).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && cd node_modules/@confluentinc/kafka-javascript \
 && rm -rf deps src build/Release/obj.target build/Release/.deps build/deps/*.a build/deps/obj* \
 && node -e "const k = require('/app/node_modules/@confluentinc/kafka-javascript'); \
      const need = ['sasl_scram', 'ssl', 'zstd'].filter((f) => !k.features.includes(f)); \
      if (need.length) { console.error('librdkafka lacks ' + need.join(', ')); process.exit(1) } \
      console.log('librdkafka ' + k.librdkafkaVersion + ': ' + k.features.join(','))"

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl3 libsasl2-2 libsasl2-modules \
      zlib1g libzstd1 liblz4-1 libcurl4 ca-certificates libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && (grep -q '^node:' /etc/passwd || { echo 'node:x:1000:' >> /etc/group; echo 'node:x:1000:1000::/home/node:/bin/sh' >> /etc/passwd; }) \
 && mkdir -p /home/node && chown 1000:1000 /home/node
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0
COPY --from=build /app/package.json /app/openapi.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui ./ui
COPY --from=build /app/scripts/serve ./scripts/serve
# Files owned by root and read-only to the service's user: it writes nothing, so the root filesystem may be
# mounted read-only (docker run --read-only; readOnlyRootFilesystem in the chart).
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
