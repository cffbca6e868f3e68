#!/usr/bin/env bash
# The 12 core behaviours of issue 16 checked the way a user would with the docker CLI: one command
# after another, one check each, no controls. The yardstick docknet's own run is compared against
# (bench/twelve.mjs runs both on one engine). Usage: plain-twelve.sh IMAGE   (DOCKER_HOST as usual;
# host-side checks, such as a published port, run in this shell's network namespace).
set -u
img=$1
p="plain$$"
fails=0
say() { if [ "$1" = 0 ]; then echo "ok   $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi; }
check() { local what=$1; shift; "$@" >/dev/null 2>&1; say $? "$what"; }
refused() { local what=$1; shift; if "$@" >/dev/null 2>&1; then say 1 "$what"; else say 0 "$what"; fi; }
start() { local name=$1; shift; docker run -d --name "$p-$name" "$@" "$img" sh -c 'httpd -p 8080 -h /www; exec sleep 600' >/dev/null; }
ip_on() { docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$p-$1"; }
cleanup() {
  docker ps -aq --filter "name=$p-" | xargs -r docker rm -f >/dev/null 2>&1
  for n in u1 u2 int mtu v6; do docker network rm "$p-$n" >/dev/null 2>&1; done
}
trap cleanup EXIT

start a; start b
check "DB-02 default bridge: reach by IP" docker exec "$p-b" ping -c1 -W2 "$(ip_on a bridge)"
refused "DB-03 default bridge: no name resolution" docker exec "$p-b" ping -c1 -W2 "$p-a"

docker network create "$p-u1" >/dev/null
start c --network "$p-u1"; start d --network "$p-u1"
check "DNS-02 user bridge: names resolve" docker exec "$p-d" ping -c1 -W2 "$p-c"
# (nc, as busybox's wget crashes in Debian's static build)
check "UB-01 user bridge: every port open" docker exec "$p-d" sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $p-c 8080 | grep -q '^HTTP'"

docker network create "$p-u2" >/dev/null
start e --network "$p-u2"
refused "ISO-01 two bridges: isolated" docker exec "$p-e" ping -c1 -W2 "$(ip_on c "$p-u1")"
docker network connect "$p-u1" "$p-e"
check "ISO-01 once connected: reached" docker exec "$p-e" ping -c1 -W2 "$(ip_on c "$p-u1")"

start f -p 18080:8080
check "PP-01 -p: the host port answers" timeout 3 bash -c '</dev/tcp/127.0.0.1/18080'
docker rm -f "$p-f" >/dev/null
refused "PP-01 released with the container" timeout 3 bash -c '</dev/tcp/127.0.0.1/18080'

start g
docker network connect "$p-u2" "$p-g"
check "CD-01 connect adds an interface" docker exec "$p-g" ip link show eth1
docker network disconnect "$p-u2" "$p-g"
refused "CD-01 disconnect removes it" docker exec "$p-g" ip link show eth1

check "HOST-01 --network host: the host's interfaces" test "$(docker run --rm --network host "$img" ip -o link | wc -l)" = "$(ip -o link | wc -l)"
check "NONE-01 --network none: loopback only" docker run --rm --network none "$img" sh -c '[ "$(ls /sys/class/net)" = lo ]'

docker network create --internal "$p-int" >/dev/null
start h --network "$p-int"; start i --network "$p-int"
check "ISO-03 the network is internal" test "$(docker network inspect -f '{{.Internal}}' "$p-int")" = true
check "ISO-03 internal: containers reach each other" docker exec "$p-h" ping -c1 -W2 "$p-i"

docker network create -o com.docker.network.driver.mtu=1400 "$p-mtu" >/dev/null
start j --network "$p-mtu"
check "OPT-03 the network's MTU" test "$(docker exec "$p-j" cat /sys/class/net/eth0/mtu)" = 1400

docker network create --ipv6 --subnet fd00:dead:beef::/64 "$p-v6" >/dev/null
start k --network "$p-v6"; start l --network "$p-v6"
check "V6-02 IPv6 by name" docker exec "$p-l" ping -6 -c1 -W2 "$p-k"

echo "$fails failed"
exit $((fails > 0))
