#!/usr/bin/env bash
# start: makes sure a Docker engine answers (reuses a running one; else starts Debian's dockerd with no
#        container network) and that the local Debian 12 + Node.js base image exists.
# stop:  stops the dockerd this script started (by its pid file), and nothing else.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
state="$MLSECOPS_CACHE/run"
mkdir -p "$state"
log() { printf '[dockerd] %s\n' "$*" >&2; }

case "${1:-start}" in
  start)
    if ! docker info >/dev/null 2>&1; then
      command -v dockerd >/dev/null || { log "dockerd is not installed: run scripts/stack/install.sh"; exit 1; }
      log "starting dockerd (log: $state/dockerd.log)"
      setsid dockerd --bridge=none --iptables=false >"$state/dockerd.log" 2>&1 &
      echo $! >"$state/dockerd.pid"
      for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
      docker info >/dev/null 2>&1 || { tail -n 20 "$state/dockerd.log" >&2; log "dockerd did not come up"; exit 1; }
    fi
    if ! docker image inspect "$MLSECOPS_BASE_IMAGE" >/dev/null 2>&1; then
      [ -f "$MLSECOPS_ROOTFS_TAR" ] || { log "no base rootfs: run scripts/stack/install.sh"; exit 1; }
      log "importing $MLSECOPS_BASE_IMAGE"
      docker import "$MLSECOPS_ROOTFS_TAR" "$MLSECOPS_BASE_IMAGE" >/dev/null
    fi
    ;;
  stop)
    if [ -f "$state/dockerd.pid" ]; then
      pid=$(cat "$state/dockerd.pid")
      if kill -0 "$pid" 2>/dev/null; then
        log "stopping dockerd $pid"
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      fi
      rm -f "$state/dockerd.pid"
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
