#!/usr/bin/env bash
# Installs and starts what the tests need, idempotently: the aws CLI v2
# (Debian's awscli, at /usr/bin/aws), a Docker engine (Debian's docker.io)
# and debootstrap (CodeBuild's stand-in for AWS's curated images is built
# from a bootstrapped Debian).
# The aws CLI v1 ("aws" on PATH) and Go come with the machine.
set -euo pipefail

need=()
[ -x /usr/bin/aws ] || need+=(awscli)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
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
