# shellcheck shell=sh
# Test a my.cnf (mounted as /etc/mysql/conf.d/djangostack.cnf) with the server that will run it:
# MySQL 8 checks it with --validate-config. MariaDB has none, and it adjusts a value it cannot
# take (an unknown collation, a count out of range) instead of refusing it: a throwaway server
# starts on an empty data directory, and each [mysqld] option of the file must be what it runs with.
cnf=/etc/mysql/conf.d/djangostack.cnf
if ! command -v mariadbd >/dev/null; then
  exec mysqld --validate-config --user=root
fi
data=$(mktemp -d)
# What the server said, its errors first.
said() { grep -E '\[ERROR\]' "$1" >&2 || cat "$1" >&2; }
if ! mariadb-install-db --user=root --datadir="$data" --skip-test-db >/tmp/install.log 2>&1; then
  said /tmp/install.log
  exit 1
fi
mariadbd --user=root --datadir="$data" --skip-networking --socket=/tmp/test.sock >/tmp/server.log 2>&1 &
server=$!
up=no
for _ in $(seq 120); do
  if mariadb-admin --socket=/tmp/test.sock ping >/dev/null 2>&1; then up=yes; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
if [ "$up" != yes ]; then
  said /tmp/server.log
  exit 1
fi
# In bytes, for a size such as 256M; any other value as it is, in lower case.
normal() { echo "$1" | awk '{ v = tolower($0); n = v + 0; u = substr(v, length(v)); m = (u == "k") ? 1024 : (u == "m") ? 1048576 : (u == "g") ? 1073741824 : (u == "t") ? 1099511627776 : 0;
  if (m && v ~ /^[0-9]+[kmgt]$/) printf "%.0f\n", n * m; else if (v ~ /^-?[0-9]*\.[0-9]+$/) printf "%.6f\n", n; else print v }'; }
status=0
awk '/^\[/ { section = $0; next } section == "[mysqld]" && /=/ { print }' "$cnf" >/tmp/options
while IFS='=' read -r name value; do
  name=$(echo "$name" | tr -d ' \t' | tr - _)
  value=$(echo "$value" | sed 's/^[ \t]*//; s/[ \t]*$//')
  # The throwaway server listens nowhere: its address and port are not the file's.
  case $name in bind_address | port | socket | skip_networking) continue ;; esac
  took=$(mariadb --socket=/tmp/test.sock -N -B -e "SELECT @@$name" 2>/dev/null) || continue
  if [ "$(normal "$took")" != "$(normal "$value")" ]; then
    echo "$name = $value: the server does not take it, and would run with $took" >&2
    status=1
  fi
done </tmp/options
mariadb-admin --socket=/tmp/test.sock shutdown
exit $status
