# shellcheck shell=sh
# Test a redis.conf (mounted at /usr/local/etc/redis/redis.conf) with the server that will run it:
# a throwaway redis-server that listens on a socket of its own only and writes nothing must still
# run after a second, when it has read its configuration and users.
timeout 1 redis-server /usr/local/etc/redis/redis.conf --port 0 --unixsocket /tmp/test.sock --dir /tmp --appendonly no
test $? -eq 124
