#!/usr/bin/env bash
# Build, from Debian packages only, the images the local inventory and the tests use.
#
# This is the offline path for machines that reach no container registry: a debootstrap
# base image, then MariaDB, Redis, nginx and Python images that behave like the official
# ones the roles default to (same paths, users and entrypoint contract). On a host that can
# pull from Docker Hub nothing here is needed: the role defaults name official images.
#
# Environment:
#   DEBIAN_MIRROR     mirror for debootstrap and apt inside builds (default: the host's, else deb.debian.org)
#   BUILD_CA_BUNDLE   extra CA bundle copied into builds that use HTTPS (default: host bundle if present)
#   IMAGE_PREFIX      repository prefix of the images (default: djangostack)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${IMAGE_PREFIX:-djangostack}
suite=bookworm
base="$prefix/debian:$suite"

default_mirror() {
  local uri
  uri=$(grep -hoE '^(URIs:|deb) +http[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -oE 'http[^ ]+' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${DEBIAN_MIRROR:-$(default_mirror)}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have_image "$base"; then
  echo ">> Building base image $base with debootstrap from $mirror"
  command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  root=$(mktemp -d /tmp/djangostack-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >/tmp/djangostack-debootstrap.log 2>&1 ||
    { tail -n 20 /tmp/djangostack-debootstrap.log >&2; exit 1; }
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$suite" "$mirror" "$suite" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$base" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

# name:tag  directory under images/ (dind-host: a Docker host in a container, for the cluster scenario)
images=(
  "$prefix/mariadb:10.11 mariadb"
  "$prefix/redis:7.0 redis"
  "$prefix/nginx:1.22 nginx"
  "$prefix/python:3.11-bookworm python"
  "$prefix/dind-host:bookworm dind-host"
)
# Checksum of a build context's files: an image is rebuilt when its directory changed.
context_sum() { (cd "$here/images/$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
for entry in "${images[@]}"; do
  read -r name dir <<<"$entry"
  sum=$(context_sum "$dir")
  if have_image "$name" && [ "${REBUILD:-0}" != 1 ] &&
    [ "$(docker image inspect -f '{{ index .Config.Labels "io.djangostack.context" }}' "$name")" = "$sum" ]; then
    continue
  fi
  echo ">> Building $name"
  docker build -q --build-arg "BASE_IMAGE=$base" --label "io.djangostack.context=$sum" -t "$name" "$here/images/$dir" \
    2> >(grep -v -i -E 'deprecated|buildx|^ *$' >&2) >/dev/null
done
echo ">> Local images ready: $(printf '%s ' "${images[@]%% *}")"
