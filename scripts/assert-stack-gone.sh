#!/usr/bin/env bash
# Fail if any container, network or volume of the named stack (or Molecule scenario) is left
# on this engine: containers labelled io.djangostack.stack or io.djangostack.test with the name,
# the network of that name, volumes named after it.
set -euo pipefail
stack=${1:?usage: assert-stack-gone.sh STACK_NAME}
left=$(
  docker ps -aq --filter "label=io.djangostack.stack=$stack"
  docker ps -aq --filter "label=io.djangostack.test=$stack"
  docker network ls -q --filter "name=^${stack}$"
  docker volume ls -q | grep -E "^${stack}-" || true
)
if [ -n "$left" ]; then
  echo "Left behind by stack $stack:" >&2
  docker ps -a --filter "label=io.djangostack.stack=$stack" --format '  container {{.Names}}' >&2
  docker ps -a --filter "label=io.djangostack.test=$stack" --format '  container {{.Names}}' >&2
  docker network ls --filter "name=^${stack}$" --format '  network {{.Name}}' >&2
  docker volume ls -q | grep -E "^${stack}-" | sed 's/^/  volume /' >&2 || true
  exit 1
fi
echo ">> Nothing of stack $stack is left: no container, network or volume."
