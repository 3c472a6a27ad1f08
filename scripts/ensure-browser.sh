#!/usr/bin/env bash
# Make sure a headless Chromium and its WebDriver are on this machine, for the browser tests
# (molecule/default/tests/test_browser.py): Debian's chromium and chromium-driver.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The browser tests need chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver)." >&2
  exit 1
fi
echo ">> Installing Debian's chromium and chromium-driver (browser tests)"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a package install of sanity.sh) may hold the lock for a while.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
apt_get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null ||
  { apt_get update -qq && apt_get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }
