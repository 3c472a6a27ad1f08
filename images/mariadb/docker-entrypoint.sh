#!/usr/bin/env bash
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
file_env MARIADB_PASSWORD
file_env MYSQL_PASSWORD
root_pw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
# Optional database and user created on first start, as the official images do.
database=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
user=${MARIADB_USER:-${MYSQL_USER:-}}
user_pw=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
sql_escape() { local v=${1//\\/\\\\}; printf '%s' "${v//\'/\\\'}"; }

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
  if [ -n "$database" ]; then
    echo "CREATE DATABASE IF NOT EXISTS \`${database}\`;" | MYSQL_PWD="$root_pw" mariadb --socket="$sock" -uroot
  fi
  if [ -n "$user" ] && [ -n "$user_pw" ]; then
    {
      echo "CREATE USER '$(sql_escape "$user")'@'%' IDENTIFIED BY '$(sql_escape "$user_pw")';"
      [ -z "$database" ] || echo "GRANT ALL ON \`${database}\`.* TO '$(sql_escape "$user")'@'%';"
    } | MYSQL_PWD="$root_pw" mariadb --socket="$sock" -uroot
  fi
  MYSQL_PWD="$root_pw" mariadb-admin --socket="$sock" -uroot shutdown
  wait "$pid" || true
  echo "Database initialized"
fi
exec "$@"
