# cluster-serving worker and frontend image (no Redis inside: run one beside it, see
# deploy/kubernetes/redis.yaml). Build from a clone:
#   docker build -t cluster-serving:0.1.0 .
# Add your model in an image of your own:
#   FROM cluster-serving:0.1.0
#   COPY model.onnx /models/model.onnx
# The default command runs a worker; the frontend is `http -c /etc/cluster-serving/config.yaml`.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# onnxruntime-node's install script would fetch CUDA libraries from NuGet: a CPU image never
# loads them (npm 11 skips it through package.json allowScripts; the npm of Node 20 does not).
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY config ./config
COPY demo ./demo
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    PATH=/opt/cluster-serving/bin:$PATH
COPY --from=build /tmp/cluster-serving-*.tgz /tmp/
# The same install CI tests: the packed project, without dev dependencies or install scripts.
RUN npm install -g --prefix /opt/cluster-serving --omit=dev --ignore-scripts --no-audit --no-fund \
      /tmp/cluster-serving-*.tgz \
 && rm /tmp/cluster-serving-*.tgz \
 && npm cache clean --force \
 && mkdir -p /models
# The node image's unprivileged user (uid 1000), as the manifests' runAsUser expects.
USER node
WORKDIR /home/node
ENV CLUSTER_SERVING_HOME=/tmp/cluster-serving
EXPOSE 10020 8090
ENTRYPOINT ["cluster-serving"]
CMD ["worker", "-c", "/etc/cluster-serving/config.yaml", "--health-port", "8090"]
