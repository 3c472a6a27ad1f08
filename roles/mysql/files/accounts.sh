# shellcheck shell=sh
# What the server's accounts say, read-only (run in the server's container by the mysql role):
# its flavour, whether the application user logs in to its database with APP_PASSWORD, whether
# root logs in with ROOT_PASSWORD, whether the application user exists, and whether it still accepts a previous
# password (a rotation this role started and has not finished). Prints one line of key=value.
client=$(command -v mariadb || command -v mysql)
flavor=mysql
"$client" --version | grep -qi mariadb && flavor=mariadb
app=no
MYSQL_PWD="$APP_PASSWORD" "$client" --protocol=TCP -h 127.0.0.1 -u "$APP_USER" -D "$APP_DB" -N -e 'SELECT 1' >/dev/null 2>&1 && app=yes
root=no
MYSQL_PWD="$ROOT_PASSWORD" "$client" -u root -N -e 'SELECT 1' >/dev/null 2>&1 && root=yes
exists=no
previous=no
if [ "$root" = yes ]; then
  [ "$(MYSQL_PWD="$ROOT_PASSWORD" "$client" -u root -N -B -e "SELECT COUNT(*) FROM mysql.user WHERE User = '$APP_USER' AND Host = '$APP_HOST'" 2>/dev/null)" = 1 ] && exists=yes
  # APP_USER and APP_HOST have formats without quotes (the role's checks).
  if [ "$flavor" = mariadb ]; then
    # An account with two passwords reads IDENTIFIED VIA ... OR ...
    MYSQL_PWD="$ROOT_PASSWORD" "$client" -u root -N -B -e "SHOW CREATE USER '$APP_USER'@'$APP_HOST'" 2>/dev/null | grep -q ' OR ' && previous=yes
  else
    query="SELECT COUNT(*) FROM mysql.user WHERE User = '$APP_USER' AND Host = '$APP_HOST' AND JSON_CONTAINS_PATH(User_attributes, 'one', '\$.additional_password')"
    [ "$(MYSQL_PWD="$ROOT_PASSWORD" "$client" -u root -N -B -e "$query" 2>/dev/null)" = 1 ] && previous=yes
  fi
fi
echo "flavor=$flavor app=$app root=$root exists=$exists previous=$previous"
