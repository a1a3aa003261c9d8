#!/usr/bin/env bash
# Builds the local control plane's binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok) from the Go module proxy, pinned by the modules under
# dev/tools/, into a cache outside the repository. A second run with the same pins is a no-op.
#
#   dev/build-binaries.sh            build what is missing, print the bin directory
#   STOWAGE_CACHE_DIR=/x dev/build-binaries.sh
#
# The output directory name carries a hash of the pins (go.mod + go.sum), so changing a
# version builds into a new directory and never mixes binaries of two releases.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/tools"
cache="${STOWAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stowage}"

log() { printf '[build-binaries] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "Go is required to build the control plane: install Go >= 1.26 or point STOWAGE_*_BINARY at existing binaries"
  exit 1
fi

pin_hash() { cat "$tools"/*/go.mod "$tools"/*/go.sum | sha256sum | cut -c1-12; }
kube_version() { (cd "$tools/kubernetes" && go list -m -f '{{.Version}}' k8s.io/kubernetes); }

bin="$cache/bin/$(pin_hash)"
mkdir -p "$bin"

# GOFLAGS=-mod=mod would let go rewrite go.sum; -mod=readonly makes a changed pin fail loudly.
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local

build_kubernetes() {
  local v major minor pkg=k8s.io/component-base/version cgo=k8s.io/client-go/pkg/version
  v="$(kube_version)"
  [ -n "$v" ] || { log "cannot read the pinned k8s.io/kubernetes version from $tools/kubernetes/go.mod"; exit 1; }
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  local ld="-s -w"
  for p in "$pkg" "$cgo"; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  log "building Kubernetes $v (a cold build takes tens of minutes on 2 cores)"
  (cd "$tools/kubernetes" && go build -trimpath -ldflags "$ld" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler)
}

build_etcd() {
  log "building etcd"
  (cd "$tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  log "building kwok"
  (cd "$tools/kwok" && go build -trimpath -ldflags "-s -w" -o "$bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
}

# go build links in its work directory and then moves the result into place, so a killed
# build leaves no half-written binary here.
have() { [ -x "$bin/$1" ] && [ -s "$bin/$1" ]; }

have kube-apiserver && have kube-controller-manager && have kube-scheduler || build_kubernetes
have etcd || build_etcd
have kwok || build_kwok

echo "$bin"
