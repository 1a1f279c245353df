#!/usr/bin/env bash
# Installs and starts what the tests need, idempotently: the aws CLI v2
# (Debian's awscli, at /usr/bin/aws), a Docker engine (Debian's docker.io),
# a static busybox (test build images need a /bin/sh) and debootstrap (the
# base of the images standing in for CodeBuild's curated ones), and
# PostgreSQL's server programs (Debian's postgresql: the store's PostgreSQL
# tests start their own throwaway cluster with initdb and pg_ctl).
# The aws CLI v1 ("aws" on PATH) and Go come with the machine.
set -euo pipefail

need=()
[ -x /usr/bin/aws ] || need+=(awscli)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: need root to install ${need[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Start dockerd unless an engine already answers.
if ! docker version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
    echo "deps: starting dockerd" >&2
    mkdir -p /var/log
    nohup dockerd >/var/log/overcast-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
  docker version >/dev/null 2>&1 || echo "deps: no Docker engine reachable (see /var/log/overcast-dockerd.log)" >&2
fi
exit 0
