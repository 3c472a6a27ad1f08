#!/usr/bin/env bash
# ansible-test sanity on the collection as Galaxy and Automation Hub run it: the repository's
# files at .cache/sanity/ansible_collections/djangostack/channels, with the collections it uses
# beside it (from the pinned `ansible` package), the installed ansible-core's own ignore file only.
#
# Environment:
#   SANITY_TESTS      test names to run (default: all)
#   SANITY_GET_PIP    auto (default): when ansible-test's pip bootstrap host does not answer,
#                     install scripts/ansible-test-get-pip.py (ensurepip, then pip from PyPI) where
#                     ansible-test looks for its cached copy; yes: always; no: never.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
root=$here/.cache/sanity/ansible_collections
site=$("$python" -c 'import os, ansible_collections.community.docker as m; print(os.path.dirname(os.path.dirname(list(m.__path__)[0])))')

rm -rf "$root/djangostack"
mkdir -p "$root/djangostack/channels"
# What is committed or would be (not ignored), as a clean clone has it.
(cd "$here" && git ls-files -co --exclude-standard -z \
  | "$python" -c 'import os, sys; sys.stdout.write("\0".join(p for p in sys.stdin.read().split("\0") if p and os.path.lexists(p)))' \
  | xargs -0 cp --parents -P -t "$root/djangostack/channels")
for namespace in community ansible; do
  ln -sfn "$site/$namespace" "$root/$namespace"
done

# ansible-test skips its shellcheck test when the program is missing.
if ! command -v shellcheck >/dev/null && command -v apt-get >/dev/null; then
  # Another apt run may hold the lock for a while (DPkg::Lock::Timeout).
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq shellcheck >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq shellcheck >/dev/null; } || true
fi

pip_version=$("$python" - <<'PY'
import pathlib, re, ansible_test
source = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
case ${SANITY_GET_PIP:-auto} in
  yes) install=1 ;;
  no) install=0 ;;
  *) install=0
     if [ ! -s "$cache" ] && ! curl -fsI --max-time 5 "https://ci-files.testing.ansible.com/ansible-test/get-pip-$pip_version.py" >/dev/null 2>&1; then
       install=1
     fi ;;
esac
if [ "$install" = 1 ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$here/scripts/ansible-test-get-pip.py" "$cache"
  echo ">> ansible-test's pip bootstrap host does not answer: using scripts/ansible-test-get-pip.py ($cache)"
fi

cd "$root/djangostack/channels"
# ansible-test lists a collection's files with git when it is a repository.
git init -q . && git add -A && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
# shellcheck disable=SC2086
"$(dirname "$python")/ansible-test" sanity --python "$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no ${SANITY_TESTS:+--test $SANITY_TESTS}
