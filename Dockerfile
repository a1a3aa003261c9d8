# The image the manifests in deploy/ run: `stowage webhook` and `stowage deschedule`.
#   docker build -t <registry>/stowage:0.1.0 .
# The TypeScript is compiled at build time, so the container runs plain JavaScript: no compiler
# in the image, no cache to write (the manifests mount the root filesystem read-only).
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
# The manifests run as 65532 (nonroot), with no privileges and a read-only root filesystem.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
