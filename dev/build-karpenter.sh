#!/usr/bin/env bash
# Builds Karpenter's KWOK provider (sigs.k8s.io/karpenter/kwok), pinned by
# dev/tools-karpenter/karpenter/go.mod, into a cache outside the repository. A second run with
# the same pin is a no-op; a cold build takes about 6 minutes on 2 cores.
#
#   dev/build-karpenter.sh           build if missing, print the path of the binary
#   STOWAGE_CACHE_DIR=/x dev/build-karpenter.sh
#
# The module lives outside dev/tools/ on purpose: dev/build-binaries.sh hashes dev/tools/*/go.mod
# for the control plane's cache directory, and pinning Karpenter must not force a rebuild of it.
# This script hashes only its own module. The upstream binary is also called `kwok`, so it is
# written as `karpenter-kwok` to never be confused with the node agent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/tools-karpenter/karpenter"
cache="${STOWAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stowage}"

log() { printf '[build-karpenter] %s\n' "$*" >&2; }

if [ -n "${STOWAGE_KARPENTER_BINARY:-}" ]; then
  echo "$STOWAGE_KARPENTER_BINARY"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "Go is required to build Karpenter: install Go >= 1.26 or point STOWAGE_KARPENTER_BINARY at a binary"
  exit 1
fi

hash="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-12)"
bin="$cache/karpenter/$hash"
out="$bin/karpenter-kwok"

if [ ! -x "$out" ] || [ ! -s "$out" ]; then
  mkdir -p "$bin"
  log "building sigs.k8s.io/karpenter/kwok (a cold build takes about 6 minutes on 2 cores)"
  # go build links in its work directory and moves the result into place: a killed build leaves
  # no half-written binary behind.
  (cd "$module" && CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local \
    go build -trimpath -ldflags "-s -w" -o "$out" sigs.k8s.io/karpenter/kwok)
fi

echo "$out"
