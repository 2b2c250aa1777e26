#!/usr/bin/env bash
# Connection memory benchmark (issue 20): what an idle keep-alive connection costs gatehouse's
# own server, plain HTTP and TLS, and whether the memory comes back after a connection storm.
#
# For each kind (http: petstore --http; tls: petstore with its self-signed ECDSA certificate),
# in each round a fresh petstore (--limits off, one thread) is started and warmed with one
# request; then bench_connections opens CONNECTIONS connections to it, each sending
# GET /prod/pets?type=dog (a stage-cache hit after the first) and reading the whole response,
# and holds them open. The figures, from the server's VmRSS (/proc/PID/status):
#
#   start     after the warm-up request
#   peak      SETTLE seconds after the last connection opened (all of them idle)
#   KiB/conn  (peak - start) / CONNECTIONS
#   after     AFTER seconds after the client closed all of them at once
#   kept      (after - start) / (peak - start): the share of the storm's memory still held
#
# The run also checks that the server really held the connections (its open sockets, from
# /proc/PID/fd, at the peak) and that they were all answered (the statuses the client saw).
# The issue's goals: under 8 KiB per idle HTTP connection, under 40 KiB per idle TLS
# connection, and memory given back after the storm (kept at most 10 %).
#
#   bench/connections.sh [--rounds N] [--connections N] [--settle SECONDS] [--after SECONDS]
#                        [--kinds "http tls"] [--build-dir DIR]
#
# The same settings can come from the environment: ROUNDS (3), CONNECTIONS (10000), SETTLE (2),
# AFTER (3), KINDS ("http tls"), BUILD_DIR (build/release), JOBS (2), SERVER_CPU (0),
# CLIENT_CPU (1). The soft limit on open files is raised to the hard one (petstore and the client
# each need CONNECTIONS of them; petstore's server_limits::max_connections is 10,000).
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-10000}
SETTLE=${SETTLE:-2}
AFTER=${AFTER:-3}
KINDS=${KINDS:-http tls}
BUILD_DIR=${BUILD_DIR:-$root/build/release}
JOBS=${JOBS:-2}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

# The comment block at the top, up to the first line that is not a comment.
usage() {
  awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --after) AFTER=$2; shift 2 ;;
    --kinds) KINDS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "connections.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done
for v in ROUNDS CONNECTIONS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "connections.sh: $v must be a positive integer" >&2; exit 2; }
done
for v in SETTLE AFTER; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "connections.sh: $v must be a whole number" >&2; exit 2; }
done
for k in $KINDS; do
  [[ $k == http || $k == tls ]] || { echo "connections.sh: kinds are http and tls" >&2; exit 2; }
done

say() { printf 'connections.sh: %s\n' "$*" >&2; }

# --- dependencies, limits and build ----------------------------------------------------------
"$root/scripts/install-deps"
for tool in taskset curl; do
  command -v "$tool" >/dev/null || { say "$tool not found (scripts/install-deps installs it)"; exit 1; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < CONNECTIONS + 100)); then
  say "the open-file limit ($(ulimit -n)) is too low for $CONNECTIONS connections"; exit 1
fi
build_target petstore
build_target bench_connections
petstore=$BUILD_DIR/examples/petstore/petstore
client=$BUILD_DIR/bench/bench_connections

# --- processes -------------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/gatehouse-connections.XXXXXX)
pids=()
hold_fd=""
cleanup() {
  local pid
  [[ -n $hold_fd ]] && exec {hold_fd}>&- 2>/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Forgets a process that has ended; stops one started here and forgets it.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}
stop() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# Starts petstore for KIND on an ephemeral port, pinned to SERVER_CPU; sets server_pid and
# server_port.
start_petstore() {
  local kind=$1 scheme=http i p=""
  local args=(--listen 127.0.0.1:0 --limits off)
  if [[ $kind == http ]]; then args+=(--http); else scheme=https; fi
  taskset -c "$SERVER_CPU" "$petstore" "${args[@]}" >"$tmp/petstore.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for ((i = 0; i < 100; i++)); do
    p=$(sed -n "s|.*serving $scheme://127\\.0\\.0\\.1:\\([0-9]*\\)/.*|\\1|p" "$tmp/petstore.log" | head -n1)
    [[ -n $p ]] && break
    kill -0 "$server_pid" 2>/dev/null || { say "petstore exited:"; cat "$tmp/petstore.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $p ]] || { say "petstore did not report its port"; exit 1; }
  server_port=$p
}

# VmRSS (kB) of a process; its open sockets.
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
sockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }

# One storm against a fresh petstore of KIND; sets start, peak, after and socks.
storm() {
  local kind=$1 client_pid i tls_flag=() scheme=http
  [[ $kind == tls ]] && { tls_flag=(--tls); scheme=https; }
  start_petstore "$kind"
  curl -sk -o /dev/null "$scheme://127.0.0.1:$server_port/prod/pets?type=dog" ||
    { say "the warm-up request failed"; exit 1; }
  sleep 0.5
  start=$(rss_kb "$server_pid")
  # The client holds its connections until its stdin, this FIFO, is closed.
  rm -f "$tmp/hold"
  mkfifo "$tmp/hold"
  : >"$tmp/client.out"
  taskset -c "$CLIENT_CPU" "$client" idle --port "$server_port" "${tls_flag[@]}" \
    --connections "$CONNECTIONS" <"$tmp/hold" >"$tmp/client.out" 2>"$tmp/client.err" &
  client_pid=$!
  pids+=("$client_pid")
  exec {hold_fd}>"$tmp/hold"
  for ((i = 0; i < 1800; i++)); do
    grep -q "^open $CONNECTIONS\$" "$tmp/client.out" && break
    if ! kill -0 "$client_pid" 2>/dev/null; then
      say "the client against petstore ($kind) failed:"; cat "$tmp/client.err" >&2
      kill -0 "$server_pid" 2>/dev/null || { say "petstore died:"; cat "$tmp/petstore.log" >&2; }
      exit 1
    fi
    sleep 0.1
  done
  grep -q "^open $CONNECTIONS\$" "$tmp/client.out" || { say "$CONNECTIONS connections did not open"; exit 1; }
  sleep "$SETTLE"
  peak=$(rss_kb "$server_pid")
  socks=$(sockets "$server_pid")
  kill -0 "$client_pid" 2>/dev/null || { say "the client ended early:"; cat "$tmp/client.err" >&2; exit 1; }
  grep '^status' "$tmp/client.out" | grep -v '^status 200 ' | sed 's/^/connections.sh: not 200: /' >&2 || true
  exec {hold_fd}>&-
  hold_fd=""
  wait "$client_pid" || { say "the client failed:"; cat "$tmp/client.err" >&2; exit 1; }
  forget "$client_pid"
  sleep "$AFTER"
  after=$(rss_kb "$server_pid")
  kill -0 "$server_pid" 2>/dev/null || { say "petstore died:"; cat "$tmp/petstore.log" >&2; exit 1; }
  stop "$server_pid"
}

say "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
say "petstore on CPU $SERVER_CPU, the client on CPU $CLIENT_CPU; $CONNECTIONS connections, $ROUNDS rounds"
declare -A per_conn kept after_kb
printf '\n%-5s %-5s %10s %10s %10s %9s %10s %6s\n' round kind "start kB" "peak kB" "after kB" sockets KiB/conn kept
for ((r = 1; r <= ROUNDS; r++)); do
  for k in $KINDS; do
    storm "$k"
    ((socks >= CONNECTIONS)) || say "petstore held only $socks sockets of $CONNECTIONS"
    pc=$(awk -v a="$start" -v b="$peak" -v n="$CONNECTIONS" 'BEGIN { printf "%.2f", (b - a) / n }')
    kp=$(awk -v a="$start" -v b="$peak" -v c="$after" 'BEGIN { if (b > a) printf "%.0f%%", 100 * (c - a) / (b - a); else print "n/a" }')
    per_conn[$k]+="$pc "
    kept[$k]+="${kp%\%} "
    after_kb[$k]+="$((after - start)) "
    printf '%-5s %-5s %10s %10s %10s %9s %10s %6s\n' "$r" "$k" "$start" "$peak" "$after" "$socks" "$pc" "$kp"
  done
done
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"

# --- summary and the issue's goals -----------------------------------------------------------
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "" || v == "n/a") print "n/a"; else print (v < t ? "met" : "NOT met") }'; }
declare -A goal=([http]=8 [tls]=40)
printf '\nmedians of %s rounds, %s connections\n' "$ROUNDS" "$CONNECTIONS"
for k in $KINDS; do
  m=$(tr ' ' '\n' <<<"${per_conn[$k]}" | grep . | median)
  kp=$(tr ' ' '\n' <<<"${kept[$k]}" | grep -v '^n/a$' | grep . | median || true)
  ak=$(tr ' ' '\n' <<<"${after_kb[$k]}" | grep . | median)
  printf 'goal: %-4s idle connection under %2s KiB: %8s KiB (%s)\n' "$k" "${goal[$k]}" "$m" "$(verdict "$m" "${goal[$k]}")"
  printf 'goal: %-4s memory given back after the storm (kept <= 10 %%): kept %s%%, %s kB above the start (%s)\n' \
    "$k" "${kp:-n/a}" "$ak" "$(verdict "${kp:-n/a}" 10.0001)"
done
exit 0
