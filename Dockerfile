# The example model's image: a dependency-free Node.js server that loads the trained model directory.
# BASE_IMAGE is an argument so builds without a registry can pass a local base image.
ARG BASE_IMAGE=node:24-bookworm-slim
FROM ${BASE_IMAGE}

# Where the action placed the trained model directory inside the build context.
ARG MODEL_DIR=.mlsecops/model

WORKDIR /app
COPY model/server.mjs model/healthcheck.mjs /app/
COPY ${MODEL_DIR}/ /app/model/

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app \
 && chown -R root:root /app && chmod -R a+rX,go-w /app
USER 10001:10001

ENV NODE_ENV=production PORT=8080 MODEL_DIR=/app/model
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "/app/server.mjs"]
