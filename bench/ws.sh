#!/usr/bin/env bash
# WebSocket benchmark (issue 9): gatehouse against a plain Asio WebSocket echo server written in
# the benchmark itself (bench/ws/ws_bench.cpp, `bench_ws serve-plain`), both on one thread:
#
#   echo   messages per second echoed with CONNECTIONS connections, each with one message in
#          flight: a masked text message {"action":"echo","message":"xxx…"} of SIZE bytes, sent
#          again as soon as its echo is back. gatehouse routes it by $request.body.action; there
#          is no "echo" route, so it goes to $default, a synchronous C++ function route
#          (two-way) that returns the message. The plain server echoes each frame as it is.
#   idle   memory per idle connection: the server's VmRSS (and RssAnon) before and 2 s after
#          IDLE connections are open (upgraded, nothing sent), divided by IDLE.
#   wss    the same gatehouse server listening with TLS (`serve-gatehouse --scheme wss`, a
#          self-signed certificate), its echo rounds and its idle connections over wss://; the
#          client's TLS is Asio's ssl::stream. Not compared with the plain server.
#
# The issue's goals: echo throughput within 20 % of the plain server (a msgs/s ratio of at least
# 0.80), 10,000 idle connections held at under 10 KiB each (issue 9), and under 40 KiB each over
# wss:// (issue 20).
#
#   bench/ws.sh [--rounds N] [--duration SECONDS] [--warmup SECONDS] [--connections N]
#               [--size BYTES] [--idle N] [--wss 0|1] [--build-dir DIR]
#
# The same settings can come from the environment: ROUNDS (5), DURATION (5), WARMUP (1),
# CONNECTIONS (100), SIZE (64), IDLE (10000; 0 skips the idle part), WSS (1; 0 skips the wss://
# rows), BUILD_DIR (build/release), JOBS (2), SERVER_CPU (0), CLIENT_CPU (1).
#
# Echo: one server of each kind serves every round (started once: no start-up cost in the
# figures, and both run warm); within a round the two run one after the other, in alternating
# order, so drift on the machine hits both alike. Each run opens fresh connections, warms up for
# WARMUP seconds, then counts echoes for DURATION seconds. The client measures the server's CPU
# time (user + system, /proc/PID/stat) over exactly that window: "cpu us" is that time per
# message, and stays meaningful when other work shares the machine; "srv %" is the server's CPU
# use in the window (well under 100 % means the server was not the bottleneck: the client, or
# other work on the machine, was), "cli %" the client's own. Idle: a fresh server of each kind,
# so that what the echo rounds left in its heap does not blur the figure.
#
# Servers are pinned to SERVER_CPU and the client (one thread) to CLIENT_CPU with taskset.
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-100}
SIZE=${SIZE:-64}
IDLE=${IDLE:-10000}
WSS=${WSS:-1}
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
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --wss) WSS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "ws.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done
for v in ROUNDS DURATION CONNECTIONS SIZE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "ws.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ $WSS == [01] ]] || { echo "ws.sh: WSS is 0 or 1" >&2; exit 2; }
for v in WARMUP IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "ws.sh: $v must be a whole number" >&2; exit 2; }
done

say() { printf 'ws.sh: %s\n' "$*" >&2; }

# --- dependencies and build ------------------------------------------------------------------
"$root/scripts/install-deps"
command -v taskset >/dev/null || { say "taskset not found (util-linux)"; exit 1; }
build_target bench_ws
bench=$BUILD_DIR/bench/bench_ws
[[ -x $bench ]] || { say "no bench_ws binary at $bench"; exit 1; }

# --- processes -------------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/gatehouse-ws.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops a process started here and forgets it.
stop() {
  local pid=$1 p keep=()
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# Each kind of server: its bench_ws command and the scheme its clients use.
declare -A serve=([gatehouse]="serve-gatehouse" [plain]="serve-plain"
  [wss]="serve-gatehouse --scheme wss")
declare -A scheme=([gatehouse]=ws [plain]=ws [wss]=wss)

# Starts server KIND (gatehouse, plain or wss) on an ephemeral port, pinned to SERVER_CPU; sets
# pid[KIND] and port[KIND]. Its output goes to $tmp/KIND.out and $tmp/KIND.log.
declare -A pid port
start_server() {
  local kind=$1 p="" i
  : >"$tmp/$kind.out"  # before the server opens it, so that the poll below can read it
  # shellcheck disable=SC2086 # the command's words
  taskset -c "$SERVER_CPU" "$bench" ${serve[$kind]} --listen 127.0.0.1:0 \
    >"$tmp/$kind.out" 2>"$tmp/$kind.log" &
  pids+=($!)
  pid[$kind]=$!
  for ((i = 0; i < 100; i++)); do
    p=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$tmp/$kind.out")
    [[ -n $p ]] && break
    kill -0 "${pid[$kind]}" 2>/dev/null || { say "serve-$kind exited:"; cat "$tmp/$kind.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $p ]] || { say "serve-$kind did not report its port"; exit 1; }
  port[$kind]=$p
}

# The value of KEY in a line of KEY=VALUE fields.
field() { sed -n "s|.*\\b$1=\\([^ ]*\\).*|\\1|p" <<<"$2"; }

kinds=(gatehouse plain)
((WSS)) && kinds+=(wss)
declare -A label=([gatehouse]="gatehouse \$default function" [plain]="plain Asio echo server"
  [wss]="gatehouse over wss://")

say "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"

# --- echo ------------------------------------------------------------------------------------
for k in "${kinds[@]}"; do start_server "$k"; done
say "gatehouse on 127.0.0.1:${port[gatehouse]}, plain server on 127.0.0.1:${port[plain]}${port[wss]:+, gatehouse over TLS on 127.0.0.1:${port[wss]}}"
say "servers on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; $CONNECTIONS connections, $SIZE-byte messages, ${DURATION}s x $ROUNDS rounds each, ${WARMUP}s warm-up"

# One echo run against KIND; prints "msgs/s p50 p99 cpu_us srv% cli%".
run_echo() {
  local kind=$1 out
  out=$(taskset -c "$CLIENT_CPU" "$bench" echo --port "${port[$kind]}" --path /bench \
    --scheme "${scheme[$kind]}" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --size "$SIZE" \
    --server-pid "${pid[$kind]}" 2>"$tmp/echo.err") || {
    say "echo against serve-$kind failed:"; cat "$tmp/echo.err" >&2
    kill -0 "${pid[$kind]}" 2>/dev/null || { say "serve-$kind died:"; cat "$tmp/$kind.log" >&2; }
    exit 1
  }
  echo "$(field 'msgs/s' "$out") $(field p50_us "$out") $(field p99_us "$out")" \
    "$(field server_cpu_us "$out") $(field server_cpu_pct "$out") $(field client_cpu_pct "$out")"
}

declare -A rate p99 cpu
printf '\n%-5s  %-28s %10s %9s %9s %9s %6s %6s\n' round server msgs/s "p50 us" "p99 us" "cpu us" "srv %" "cli %"
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${kinds[@]}")
  ((r % 2)) || order=(plain gatehouse)
  ((WSS)) && { ((r % 2)) || order=(wss "${order[@]}"); }
  for k in "${order[@]}"; do
    read -r m l50 l99 c sp cp < <(run_echo "$k")
    [[ -n ${m:-} && -n ${c:-} ]] || { say "no figures from the echo run against serve-$k"; exit 1; }
    rate[$k]+="$m "
    p99[$k]+="$l99 "
    cpu[$k]+="$c "
    printf '%-5s  %-28s %10s %9s %9s %9s %6s %6s\n' "$r" "${label[$k]}" "$m" "$l50" "$l99" "$c" "$sp" "$cp"
  done
done
for k in "${kinds[@]}"; do stop "${pid[$k]}"; done

# --- idle ------------------------------------------------------------------------------------
# VmRSS or RssAnon (kB) of a process.
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

declare -A idle_rss idle_anon
run_idle() {
  local kind=$1 rss0 anon0 rss1 anon1 client hold_fd i
  start_server "$kind"
  sleep 0.5
  rss0=$(mem_kb "${pid[$kind]}" VmRSS)
  anon0=$(mem_kb "${pid[$kind]}" RssAnon)
  # The client holds its connections until its stdin, this FIFO, is closed.
  rm -f "$tmp/idle.in"
  : >"$tmp/idle.out"
  mkfifo "$tmp/idle.in"
  # 10,000 TLS handshakes take a while on a busy machine.
  taskset -c "$CLIENT_CPU" "$bench" idle --port "${port[$kind]}" --path /bench \
    --scheme "${scheme[$kind]}" --open-timeout 600 --connections "$IDLE" --hold 600 <"$tmp/idle.in" >"$tmp/idle.out" 2>"$tmp/idle.err" &
  client=$!
  pids+=("$client")
  exec {hold_fd}>"$tmp/idle.in"
  for ((i = 0; i < 6000; i++)); do
    grep -q "^open $IDLE\$" "$tmp/idle.out" && break
    if ! kill -0 "$client" 2>/dev/null; then
      say "the idle client against serve-$kind failed:"; cat "$tmp/idle.err" >&2
      kill -0 "${pid[$kind]}" 2>/dev/null || { say "serve-$kind died:"; cat "$tmp/$kind.log" >&2; }
      exit 1
    fi
    sleep 0.1
  done
  grep -q "^open $IDLE\$" "$tmp/idle.out" || { say "$IDLE connections to serve-$kind did not open"; exit 1; }
  sleep 2
  rss1=$(mem_kb "${pid[$kind]}" VmRSS)
  anon1=$(mem_kb "${pid[$kind]}" RssAnon)
  kill -0 "$client" 2>/dev/null || { say "the idle client against serve-$kind ended early:"; cat "$tmp/idle.err" >&2; exit 1; }
  exec {hold_fd}>&-
  stop "$client"
  stop "${pid[$kind]}"
  idle_rss[$kind]=$(awk -v a="$rss0" -v b="$rss1" -v n="$IDLE" 'BEGIN { printf "%.2f", (b - a) / n }')
  idle_anon[$kind]=n/a
  [[ -n $anon0 && -n $anon1 ]] &&
    idle_anon[$kind]=$(awk -v a="$anon0" -v b="$anon1" -v n="$IDLE" 'BEGIN { printf "%.2f", (b - a) / n }')
  printf '%-28s %10s %10s %10s %10s %11s %13s\n' "${label[$kind]}" "$rss0" "$rss1" \
    "${anon0:-n/a}" "${anon1:-n/a}" "${idle_rss[$kind]}" "${idle_anon[$kind]}"
}
if ((IDLE > 0)); then
  printf '\n%-28s %10s %10s %10s %10s %11s %13s\n' "$IDLE idle connections" "VmRSS kB" "after" \
    "RssAnon kB" "after" "KiB/conn" "anon KiB/conn"
  for k in "${kinds[@]}"; do run_idle "$k"; done
fi
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"

# --- summary ---------------------------------------------------------------------------------
declare -A med_rate med_p99 med_cpu
printf '\n%-28s %10s %9s %10s %12s\n' "median of $ROUNDS runs" msgs/s "p99 us" "cpu us/msg" "idle KiB/conn"
for k in "${kinds[@]}"; do
  med_rate[$k]=$(tr ' ' '\n' <<<"${rate[$k]}" | grep . | median)
  med_p99[$k]=$(tr ' ' '\n' <<<"${p99[$k]}" | grep . | median)
  med_cpu[$k]=$(tr ' ' '\n' <<<"${cpu[$k]}" | grep . | median)
  printf '%-28s %10.0f %9.1f %10.2f %12s\n' "${label[$k]}" "${med_rate[$k]}" "${med_p99[$k]}" \
    "${med_cpu[$k]}" "${idle_rss[$k]:-n/a}"
done
rate_ratio=$(ratio "${med_rate[gatehouse]}" "${med_rate[plain]}")
printf '%-28s %10s %9s %10s\n' "gatehouse / plain" "$rate_ratio" \
  "$(ratio "${med_p99[gatehouse]}" "${med_p99[plain]}")" \
  "$(ratio "${med_cpu[gatehouse]}" "${med_cpu[plain]}")"

# The issue's goals.
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
  if (v == "n/a" || v == "") { print "n/a"; exit }
  ok = op == ">=" ? v >= t : v < t; print ok ? "met" : "NOT met" }'; }
printf '\ngoal: echo msgs/s within 20 %% of plain (ratio >= 0.80): %s (%s)\n' "$rate_ratio" \
  "$(verdict "$rate_ratio" ">=" 0.80)"
printf 'goal: echo server cpu/msg within 20 %% of plain (plain / gatehouse >= 0.80): %s (%s)\n' \
  "$(ratio "${med_cpu[plain]}" "${med_cpu[gatehouse]}")" \
  "$(verdict "$(ratio "${med_cpu[plain]}" "${med_cpu[gatehouse]}")" ">=" 0.80)"
if ((IDLE > 0)); then
  printf 'goal: %s idle connections under 10 KiB each: gatehouse %s KiB (%s)\n' "$IDLE" \
    "${idle_rss[gatehouse]}" "$(verdict "${idle_rss[gatehouse]}" "<" 10)"
  ((WSS)) && printf 'goal: %s idle wss:// connections under 40 KiB each: gatehouse %s KiB (%s)\n' \
    "$IDLE" "${idle_rss[wss]}" "$(verdict "${idle_rss[wss]}" "<" 40)"
fi
exit 0
