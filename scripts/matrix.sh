#!/usr/bin/env bash
# The support matrix: for each ansible-core release of tests/matrix/ansible-core-*.txt (the full
# suite runs on the newest, requirements-dev.txt), a virtualenv with it, then on this machine a
# converge of the single-host stack, a re-run that must change nothing, a GET of the health page
# through nginx, and the stack removed again.
#
# Environment: MATRIX_VERSIONS (default: every file of tests/matrix), e.g. "2.17".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ -z "${MATRIX_VERSIONS:-}" ]; then
  for pins in tests/matrix/ansible-core-*.txt; do
    pins=${pins#tests/matrix/ansible-core-}
    MATRIX_VERSIONS="${MATRIX_VERSIONS:-} ${pins%.txt}"
  done
fi
versions=$MATRIX_VERSIONS
scripts/local-secrets.sh >/dev/null
status=0
for version in $versions; do
  venv=$here/.cache/matrix/$version
  if [ ! -x "$venv/bin/ansible-playbook" ] || [ "tests/matrix/ansible-core-$version.txt" -nt "$venv/.installed" ]; then
    echo ">> ansible-core $version: virtualenv $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "tests/matrix/ansible-core-$version.txt" \
      2>"$here/.cache/matrix/$version.pip.log" || { cat "$here/.cache/matrix/$version.pip.log" >&2; exit 1; }
    touch "$venv/.installed"
  fi
  stack=matrix-${version//./-}
  port=18${version//./}
  extra=(-i inventories/local -e "stack_name=$stack" -e "nginx_http_port=$port" -e "ansible_python_interpreter=$venv/bin/python")
  run() {
    env ANSIBLE_CONFIG="$here/ansible.cfg" ANSIBLE_NOCOLOR=1 "$venv/bin/ansible-playbook" "${extra[@]}" "$@"
  }
  log=$here/.cache/matrix/$version.log
  echo ">> ansible-core $("$venv/bin/python" -c 'import ansible.release; print(ansible.release.__version__)'): converge, then a re-run (log: $log)"
  if run site.yml >"$log" 2>&1 && run site.yml >"$log.rerun" 2>&1; then
    changed=$(grep -oE 'changed=[0-9]+' "$log.rerun" | awk -F= '{s+=$2} END {print s+0}')
    health=$(curl -fsS "http://127.0.0.1:$port/_djangostack/health" || true)
    if [ "$changed" = 0 ] && grep -q '"status": "ok"' <<<"$health"; then
      echo ">> ansible-core $version: converged, re-run changed=0, $health"
    else
      echo "!! ansible-core $version: re-run changed=$changed, health: $health" >&2
      grep -B2 -A8 'changed: ' "$log.rerun" | head -n 60 >&2 || true
      status=1
    fi
  else
    echo "!! ansible-core $version: the run failed" >&2
    tail -n 60 "$log" "$log.rerun" 2>/dev/null >&2 || true
    status=1
  fi
  run playbooks/destroy.yml -e stack_destroy_volumes=true >"$log.destroy" 2>&1 || { tail -n 30 "$log.destroy" >&2; status=1; }
  scripts/assert-stack-gone.sh "$stack" || status=1
done
exit $status
