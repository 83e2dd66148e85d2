#!/usr/bin/env bash
# Builds a real Kubernetes control plane — kube-apiserver, kube-controller-manager, kube-scheduler — and etcd, at
# pinned versions, from the Go module proxy, into a cache outside the repository, for the integration tests that run
# the control plane's Kubernetes code against a real API server (test/support/kube-control-plane.ts). Binaries already
# in the cache are reused. Prints the binaries' directory on its last line.
#
# Why not `go install`: k8s.io/kubernetes's go.mod replaces each of its k8s.io/* staging modules with a path inside
# its own repository (./staging/src/...), and etcd's server module does the same with its siblings (../api, ...).
# So a throwaway main module requires the pinned release and replaces each of those with its published twin.
#
#   CHAOSDUCK_KUBE_CACHE   where the binaries go (default: ~/.cache/chaosduck/kube-control-plane)
set -euo pipefail

K8S_VERSION=1.37.2
ETCD_VERSION=3.6.16
CACHE="${CHAOSDUCK_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chaosduck/kube-control-plane}"
BIN="$CACHE/kubernetes-v$K8S_VERSION-etcd-v$ETCD_VERSION"
KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler)

built() {
  for name in "${KUBE_COMMANDS[@]}" etcd; do [[ -x "$BIN/$name" ]] || return 1; done
}
if built; then
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { echo "go is needed to build the Kubernetes control plane (Go $K8S_VERSION needs go 1.26 or newer)" >&2; exit 1; }
# A go older than the modules' `go` line fetches the toolchain they ask for through the module proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
[[ "$GOTOOLCHAIN" == local ]] && export GOTOOLCHAIN=auto
export GOFLAGS=-mod=mod

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$BIN.partial"

# Writes a main module in $1 that requires $2@$3 and replaces each module its go.mod points at a relative path with the
# published module of version $4.
main_module() {
  local dir="$1" module="$2" version="$3" twin_version="$4"
  mkdir -p "$dir"
  (
    cd "$dir"
    go mod init chaosduck.local/build >/dev/null 2>&1
    local gomod
    gomod="$(go mod download -json "$module@$version" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
    # Lines such as `k8s.io/api => ./staging/src/k8s.io/api` or `go.etcd.io/etcd/api/v3 => ../api`.
    grep -E '^\s*[^ ]+ => \.{1,2}/' "$gomod" | awk '{print $1}' | while read -r twin; do
      go mod edit -replace "$twin=$twin@$twin_version"
    done
    go get "$module@$version" >/dev/null
  )
}

started=$SECONDS
echo "building Kubernetes v$K8S_VERSION and etcd v$ETCD_VERSION into $BIN (a few minutes the first time)" >&2

main_module "$work/kubernetes" k8s.io/kubernetes "v$K8S_VERSION" "v0.${K8S_VERSION#1.}"
version_flags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
version_flags+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION") -X k8s.io/component-base/version.gitTreeState=clean"
version_flags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
for name in "${KUBE_COMMANDS[@]}"; do
  (cd "$work/kubernetes" && go build -p 2 -trimpath -ldflags "-s -w $version_flags" -o "$BIN.partial/$name" "k8s.io/kubernetes/cmd/$name")
  echo "  $name built ($((SECONDS - started)) s)" >&2
done

main_module "$work/etcd" go.etcd.io/etcd/server/v3 "v$ETCD_VERSION" "v$ETCD_VERSION"
(cd "$work/etcd" && go build -p 2 -trimpath -ldflags "-s -w" -o "$BIN.partial/etcd" go.etcd.io/etcd/server/v3)
echo "  etcd built ($((SECONDS - started)) s)" >&2

rm -rf "$BIN"
mv "$BIN.partial" "$BIN"
echo "$BIN"
