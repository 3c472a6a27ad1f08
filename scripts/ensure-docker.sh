#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine.
#
# On a host with an init system, install and start Docker the usual way (or let the
# docker_host role do it with docker_host_install=true). This script is for machines without
# one (CI VMs, containers): it installs Debian's docker.io when dockerd is missing and starts
# the daemon detached, then waits for it.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo ">> Installing Debian's docker.io (no Docker engine on this machine)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq docker.io >/dev/null
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq debootstrap >/dev/null 2>&1 || true
fi
if ! docker info >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    echo ">> Starting dockerd without an init system (log: /var/log/dockerd.log)"
    setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  fi
fi
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "The Docker engine did not answer within 60 s; last lines of /var/log/dockerd.log:" >&2
tail -n 20 /var/log/dockerd.log >&2 || true
exit 1
