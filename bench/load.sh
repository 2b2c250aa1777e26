#!/usr/bin/env bash
# Load benchmark: wrk against the petstore example (plain HTTP) and, in the same run, against
# nginx answering the same request with `return 200`, plus (optional) nginx proxy_pass in front
# of petstore. Prints each run, then medians of req/s and p99 latency and gatehouse/nginx ratios.
#
#   bench/load.sh [--rounds N] [--duration SECONDS] [--connections N] [--warmup SECONDS]
#                 [--no-proxy] [--build-dir DIR]
#
# The same settings can come from the environment: ROUNDS (5), DURATION (5), CONNECTIONS (50),
# WARMUP (2), PROXY (1; 0 skips the proxy line), BUILD_DIR (build/release), JOBS (2),
# SERVER_CPU (0), CLIENT_CPU (1).
#
# Servers (and petstore as nginx's upstream) are pinned to SERVER_CPU and wrk (one thread) to
# CLIENT_CPU: on a 2-core machine that cuts the run-to-run spread from ~14-28 % to ~5-7 %.
# Besides req/s and p99, each run reports the servers' CPU time per request ("cpu us", user +
# system, from /proc), which stays meaningful when other work shares the machine.
# Everything listens on 127.0.0.1 only; every server started here is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-50}
WARMUP=${WARMUP:-2}
PROXY=${PROXY:-1}
BUILD_DIR=${BUILD_DIR:-$root/build/release}
JOBS=${JOBS:-2}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --no-proxy) PROXY=0; shift ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "load.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done
for v in ROUNDS DURATION CONNECTIONS WARMUP; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: $v must be a positive integer" >&2; exit 2; }
done

say() { printf 'load.sh: %s\n' "$*" >&2; }

# --- dependencies and build ------------------------------------------------------------------
"$root/scripts/install-deps"
PATH=$PATH:/usr/sbin:/sbin  # nginx lives in /usr/sbin
for tool in wrk nginx taskset curl; do
  command -v "$tool" >/dev/null || { say "$tool not found (scripts/install-deps installs it)"; exit 1; }
done
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  say "configuring $BUILD_DIR"
  cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
say "building petstore in $BUILD_DIR"
cmake --build "$BUILD_DIR" --target petstore -j "$JOBS" >/dev/null
petstore=$BUILD_DIR/examples/petstore/petstore
[[ -x $petstore ]] || { say "no petstore binary at $petstore"; exit 1; }

# --- servers ---------------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/gatehouse-load.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port nothing listens on right now (each server start is verified anyway).
free_port() {
  local p i
  for i in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  say "no free port found"; exit 1
}

path=/prod/pets/1
expected='{"id":1,"type":"dog","price":249.99}'

# Waits until URL answers 200 with the expected JSON; the bytes of a whole response go to stdout.
await() {
  local name=$1 url=$2 pid=$3 i out
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { say "$name exited; its log:"; cat "$tmp/$name.log" >&2; exit 1; }
    if out=$(curl -s -D "$tmp/$name.head" "$url" 2>/dev/null) && [[ $out == "$expected" ]]; then
      if ! grep -qi '^content-type: application/json' "$tmp/$name.head"; then
        say "$name answers $url without Content-Type: application/json"; exit 1
      fi
      echo $(( $(wc -c <"$tmp/$name.head") + ${#out} ))
      return
    fi
    sleep 0.1
  done
  say "$name does not answer $url with $expected"; exit 1
}

taskset -c "$SERVER_CPU" "$petstore" --http --listen 127.0.0.1:0 >"$tmp/petstore.log" 2>&1 &
pids+=($!)
gh_pid=$!
for i in $(seq 100); do
  gh_port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/petstore.log")
  [[ -n $gh_port ]] && break
  kill -0 "$gh_pid" 2>/dev/null || { say "petstore exited:"; cat "$tmp/petstore.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $gh_port ]] || { say "petstore did not report its port"; exit 1; }

nginx_port=$(free_port)
proxy_port=$(free_port)
while [[ $proxy_port == "$nginx_port" ]]; do proxy_port=$(free_port); done
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user root;"  # workers may then use the temp dir below
proxy_server=""
if [[ $PROXY == 1 ]]; then
  proxy_server="
  upstream gatehouse {
    server 127.0.0.1:$gh_port;
    keepalive 128;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"
fi
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/client_body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$nginx_port;
    location = $path {
      default_type application/json;
      return 200 '$expected';
    }
  }$proxy_server
}
EOF
taskset -c "$SERVER_CPU" nginx -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' \
  >"$tmp/nginx.out" 2>&1 &
pids+=($!)
nginx_pid=$!

names=(gatehouse nginx)
urls=("http://127.0.0.1:$gh_port$path" "http://127.0.0.1:$nginx_port$path")
labels=("gatehouse (petstore --http)" "nginx return 200")
[[ $PROXY == 1 ]] && {
  names+=(proxy)
  urls+=("http://127.0.0.1:$proxy_port$path")
  labels+=("nginx proxy_pass to gatehouse")
}
sizes=()
sizes+=("$(await petstore "${urls[0]}" "$gh_pid")")
sizes+=("$(await nginx "${urls[1]}" "$nginx_pid")")
[[ $PROXY == 1 ]] && sizes+=("$(await nginx "${urls[2]}" "$nginx_pid")")

# --- load ------------------------------------------------------------------------------------
# Runs wrk; prints "<req/s> <p99 ms> <requests> <non-2xx or error count>".
run_wrk() {
  local url=$1 seconds=$2 out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${seconds}s" --latency "$url")
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v + 0 }
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad += $NF }
    /Socket errors:/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.3f %d %d\n", rps, p99, n, bad }' <<<"$out"
}

# CPU time (clock ticks, user + system) used so far by processes and their children processes
# (nginx's worker). Server CPU per request does not depend on what else runs on the machine
# nearly as much as req/s does, so it is printed too.
cpu_ticks() {
  local pid kids total=0 f
  for pid in "$@"; do
    kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
    for p in $pid $kids; do
      f=$(cat /proc/"$p"/stat 2>/dev/null) || continue
      f=${f##*) }  # fields from the 3rd on; the name in (…) may hold spaces
      set -- $f
      total=$((total + ${12} + ${13}))
    done
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
# Which processes serve each target: gatehouse, nginx, nginx + gatehouse behind it.
serving=("$gh_pid" "$nginx_pid" "$nginx_pid $gh_pid")

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "gatehouse on 127.0.0.1:$gh_port, nginx on 127.0.0.1:$nginx_port$([[ $PROXY == 1 ]] && echo ", nginx proxy on 127.0.0.1:$proxy_port")"
say "servers on CPU $SERVER_CPU, wrk -t1 on CPU $CLIENT_CPU; $CONNECTIONS connections, ${DURATION}s x $ROUNDS rounds each, ${WARMUP}s warm-up"
# Other work on the machine skews req/s and latency: say how busy it was, before and after.
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
for i in "${!names[@]}"; do run_wrk "${urls[$i]}" "$WARMUP" >/dev/null; done

declare -A rps p99 cpu
printf '\n%-6s' round
for i in "${!names[@]}"; do printf '  %15s %8s %8s' "${names[$i]} req/s" "p99 ms" "cpu us"; done
printf '\n'
warn=0
for ((r = 1; r <= ROUNDS; r++)); do
  printf '%-6s' "$r"
  for i in "${!names[@]}"; do
    # shellcheck disable=SC2086
    before=$(cpu_ticks ${serving[$i]})
    read -r q l n bad < <(run_wrk "${urls[$i]}" "$DURATION") || true
    [[ -n ${q:-} && -n ${bad:-} && ${n:-0} -gt 0 ]] || { say "wrk against ${urls[$i]} failed"; exit 1; }
    # shellcheck disable=SC2086
    after=$(cpu_ticks ${serving[$i]})
    c=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    rps[$i]+="$q "
    p99[$i]+="$l "
    cpu[$i]+="$c "
    flag=""
    ((bad > 0)) && { flag="!"; warn=1; }
    printf '  %15s %8s %8s' "$q$flag" "$l" "$c"
  done
  printf '\n'
done
((warn)) && say "! marks runs with non-2xx responses or socket errors"
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"

printf '\n%-32s %10s %9s %12s %11s\n' "median of $ROUNDS runs" "req/s" "p99 ms" "server cpu" "resp bytes"
declare -a med_rps med_p99 med_cpu
for i in "${!names[@]}"; do
  med_rps[$i]=$(tr ' ' '\n' <<<"${rps[$i]}" | grep . | median)
  med_p99[$i]=$(tr ' ' '\n' <<<"${p99[$i]}" | grep . | median)
  med_cpu[$i]=$(tr ' ' '\n' <<<"${cpu[$i]}" | grep . | median)
  printf '%-32s %10.0f %9.3f %9.2f us %11s\n' "${labels[$i]}" "${med_rps[$i]}" "${med_p99[$i]}" \
    "${med_cpu[$i]}" "${sizes[$i]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n%-32s %10s %9s %12s\n' "gatehouse / nginx" "$(ratio "${med_rps[0]}" "${med_rps[1]}")" \
  "$(ratio "${med_p99[0]}" "${med_p99[1]}")" "$(ratio "${med_cpu[0]}" "${med_cpu[1]}")"
[[ $PROXY == 1 ]] && printf '%-32s %10s %9s %12s\n' "gatehouse / nginx proxy_pass" \
  "$(ratio "${med_rps[0]}" "${med_rps[2]}")" "$(ratio "${med_p99[0]}" "${med_p99[2]}")" \
  "$(ratio "${med_cpu[0]}" "${med_cpu[2]}")"
exit 0
