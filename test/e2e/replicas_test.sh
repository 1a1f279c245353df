#!/usr/bin/env bash
# Two `overcast up` replicas sharing one PostgreSQL and one blob store (a
# third overcast's S3): what the aws CLI writes through one it reads through
# the other; kill -9 of the replica running the controllers hands them to
# the other within seconds, and nothing it acknowledged is lost.
source "$(dirname "$0")/lib.sh"

bin=${OVERCAST_BIN:-bin/overcast}
if ! command -v initdb >/dev/null || ! command -v pg_ctl >/dev/null; then
  [ "${OVERCAST_TEST_POSTGRES:-}" = 1 ] && fail "no PostgreSQL (initdb, pg_ctl) and OVERCAST_TEST_POSTGRES=1"
  echo "  skip: no PostgreSQL (initdb, pg_ctl) to share"
  exit 0
fi

work=$(mktemp -d /tmp/overcast-replicas-XXXXXX)
pids=()
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id overcast-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin overcast-pg
  chown overcast-pg "$work"
  as_pg=(runuser -u overcast-pg --)
fi
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  "${as_pg[@]}" pg_ctl --pgdata "$work/pg" stop --mode fast >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" initdb --pgdata "$work/pg" --username postgres --auth trust --no-locale --no-sync >/dev/null
"${as_pg[@]}" pg_ctl --pgdata "$work/pg" start --wait --log "$work/pg.log" \
  -o "-c listen_addresses='' -c unix_socket_directories='$work' -c port=5432" >/dev/null
psql --no-psqlrc --quiet --host "$work" --username postgres --dbname postgres --command "CREATE DATABASE overcast"
store="postgres://postgres@/overcast?host=$work"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
healthy() { curl -fsS "http://127.0.0.1:$1/_overcast/health" >/dev/null 2>&1; }
controllers() { curl -fsS "http://127.0.0.1:$1/_overcast/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["controllers"])'; }

blob_port=$(free_port)
"$bin" up --addr "127.0.0.1:$blob_port" --data-dir "$work/blobhost" >"$work/blobhost.log" 2>&1 &
pids+=($!)
wait_for "the blob store" healthy "$blob_port"
aws --endpoint-url "http://127.0.0.1:$blob_port" s3 mb s3://blobs >/dev/null

ports=()
start_replica() { # start_replica INDEX
  "$bin" up --addr "127.0.0.1:${ports[$1]}" --data-dir "$work/replica-$1" --store "$store" --lease-ttl 3s \
    --blobs s3://blobs/replicas --blobs-endpoint "http://127.0.0.1:$blob_port" >>"$work/replica-$1.log" 2>&1 &
  pids[$1 + 1]=$!
  wait_for "replica $1" healthy "${ports[$1]}"
}
for i in 0 1; do
  ports[$i]=$(free_port)
  start_replica "$i"
done
r0="http://127.0.0.1:${ports[0]}" r1="http://127.0.0.1:${ports[1]}"

# Written through one, read through the other.
head -c 300000 /dev/urandom >"$work/object"
aws --endpoint-url "$r0" s3 mb s3://shared >/dev/null
aws --endpoint-url "$r0" s3 cp "$work/object" s3://shared/object >/dev/null
/usr/bin/aws --endpoint-url "$r1" s3 cp s3://shared/object "$work/object.back" >/dev/null
cmp -s "$work/object" "$work/object.back" || fail "the object read through the other replica differs"
aws --endpoint-url "$r1" secretsmanager create-secret --name db --secret-string hunter2 >/dev/null
got=$(/usr/bin/aws --endpoint-url "$r0" secretsmanager get-secret-value --secret-id db --query SecretString --output text)
expect_eq "secret sealed on one replica, opened on the other" "$got" hunter2

# One leads.
wait_for "one replica leading" bash -c "[ \"\$(curl -fsS $r0/_overcast/health $r1/_overcast/health | grep -o '\"controllers\":\"running\"' | wc -l)\" = 1 ]"
if [ "$(controllers "${ports[0]}")" = running ]; then leader=0 other=1; else leader=1 other=0; fi

# Objects acknowledged by the leader just before kill -9 survive it.
for i in $(seq 1 20); do
  aws --endpoint-url "http://127.0.0.1:${ports[$leader]}" s3api put-object --bucket shared --key "before-kill/$i" --body "$work/object" >/dev/null
done
kill -9 "${pids[$leader + 1]}"
wait "${pids[$leader + 1]}" 2>/dev/null || true
for _ in $(seq 1 300); do
  [ "$(controllers "${ports[$other]}")" = running ] && break
  sleep 0.1
done
expect_eq "the other replica's controllers after kill -9 of the leader" "$(controllers "${ports[$other]}")" running
n=$(aws --endpoint-url "http://127.0.0.1:${ports[$other]}" s3api list-objects-v2 --bucket shared --prefix before-kill/ --query 'length(Contents)' --output text)
expect_eq "objects acknowledged before the kill" "$n" 20

# The killed replica comes back as standby.
start_replica "$leader"
expect_eq "the restarted replica" "$(controllers "${ports[$leader]}")" standby
