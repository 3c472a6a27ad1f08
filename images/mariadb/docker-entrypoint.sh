#!/bin/bash
# First-start initialisation with the official images' variables; then exec the server.
set -euo pipefail

file_env() {
  local var=$1 file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then
    export "$var"="$(<"${!file_var}")"
  fi
}
file_env MARIADB_ROOT_PASSWORD
file_env MYSQL_ROOT_PASSWORD
root_pw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}

if [[ "${1:-}" == mariadbd || "${1:-}" == mysqld ]] && [ ! -d /var/lib/mysql/mysql ]; then
  if [ -z "$root_pw" ]; then
    echo "error: database is uninitialized and MYSQL_ROOT_PASSWORD(_FILE) is not set" >&2
    exit 1
  fi
  echo "Initializing database in /var/lib/mysql"
  mariadb-install-db --datadir=/var/lib/mysql --skip-test-db --auth-root-authentication-method=normal \
    --skip-name-resolve >/dev/null
  sock=/run/mysqld/init.sock
  mariadbd --skip-networking --socket="$sock" &
  pid=$!
  for _ in $(seq 60); do
    mariadb-admin --socket="$sock" -uroot ping >/dev/null 2>&1 && break
    sleep 1
  done
  escaped=${root_pw//\\/\\\\}
  escaped=${escaped//\'/\\\'}
  mariadb --socket="$sock" -uroot <<SQL
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '${escaped}';
FLUSH PRIVILEGES;
SQL
  MYSQL_PWD="$root_pw" mariadb-admin --socket="$sock" -uroot shutdown
  wait "$pid" || true
  echo "Database initialized"
fi
exec "$@"
