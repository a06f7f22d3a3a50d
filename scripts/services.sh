#!/usr/bin/env bash
# Makes sure the local services the integration tests use are running: PostgreSQL
# (127.0.0.1:5432, database test), NATS with JetStream (127.0.0.1:4222) and RabbitMQ
# (127.0.0.1:5672). Starts any that is installed but not running; Kafka and Kafka Connect are
# started by the test runner itself from Maven Central jars.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port name seconds
  for _ in $(seq 1 "$3"); do up "$1" && { echo "$2 is up on 127.0.0.1:$1"; return 0; }; sleep 1; done
  echo "$2 did not come up on 127.0.0.1:$1" >&2; return 1
}
rc=0
if ! up 5432; then
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
wait_port 5432 PostgreSQL 30 || rc=1
if up 5432 && command -v psql >/dev/null; then
  psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" postgres 2>/dev/null | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c 'create database test' postgres >/dev/null 2>&1 || true
fi
if ! up 4222; then
  mkdir -p /var/lib/nats-server
  if command -v start-stop-daemon >/dev/null; then
    start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  else
    nohup nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server >/var/log/nats-server.log 2>&1 &
  fi
fi
wait_port 4222 NATS 20 || rc=1
if ! up 5672; then
  command -v rabbitmq-server >/dev/null && rabbitmq-server -detached || true
fi
wait_port 5672 RabbitMQ 90 || rc=1
exit $rc
