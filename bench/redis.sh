#!/usr/bin/env bash
# Redis store benchmark (issue 25): what sharing limits on Redis costs petstore, side by side
# with the in-memory store in one run:
#
#   memory   petstore --http --limits unrefusing --api-key KEY: every limit level on (account,
#            stage, method, plan and its quota, per key and method) with limits too high to
#            refuse, on the in-memory store
#   redis    the same with --store redis://127.0.0.1:PORT --store-fail closed, against a
#            redis-server started here (--save '' --appendonly no): admission is one EVALSHA per
#            request, or per batch of the requests that came while others were under way
#
# Both answer GET /prod/pets/1 with x-api-key: KEY (with --limits unrefusing every route needs
# the key). --store-fail closed makes any request Redis could not admit a 503, which wrk counts
# (marked "!"), instead of a silent fallback to memory; and after the runs the script checks
# that Redis counted every request the redis rows got answered (the key's usage counters, which
# only admissions on Redis increment, sum to at least that; the warm-ups count too), or it
# fails. It prints INFO commandstats: EVALSHA calls per request (below 1 when batched) and the
# other commands (those the script calls counted too).
#
# The issue's goal: with the gateway pinned to one core and redis-server beside wrk on the
# other, Redis costs under 15 % of the memory store's throughput (req/s ratio redis / memory at
# least 0.85) and adds under 1 ms at p99.
#
#   bench/redis.sh [--rounds N] [--duration SECONDS] [--connections N] [--warmup SECONDS]
#                  [--build-dir DIR]
#
# The same settings can come from the environment: ROUNDS (5), DURATION (5), CONNECTIONS (50),
# WARMUP (2), BUILD_DIR (build/release), JOBS (2), SERVER_CPU (0), CLIENT_CPU (1).
#
# Both petstores are pinned to SERVER_CPU; wrk (one thread) and redis-server to CLIENT_CPU.
# Within each round the two rows run one after the other, in alternating order (memory first in
# odd rounds), so drift on the machine hits both alike. Each run prints req/s, p50 and p99
# latency (wrk --latency), the gateway's CPU time per request and redis-server's (user +
# system, from /proc; in parentheses for the memory row, where it should be 0). Then the
# medians, and redis / memory: req/s of the medians and the median over rounds of the ratio
# within a round (which follows a drifting machine better), CPU per request likewise, and the
# p50 and p99 differences in ms. Everything listens on 127.0.0.1 only; every process started
# here is stopped (by pid) on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-50}
WARMUP=${WARMUP:-2}
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
    --connections) CONNECTIONS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "redis.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done
for v in ROUNDS DURATION CONNECTIONS WARMUP; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "redis.sh: $v must be a positive integer" >&2; exit 2; }
done

say() { printf 'redis.sh: %s\n' "$*" >&2; }

# --- dependencies and build ------------------------------------------------------------------
"$root/scripts/install-deps" bench
for tool in wrk taskset curl redis-server redis-cli; do
  command -v "$tool" >/dev/null || { say "$tool not found (scripts/install-deps installs it)"; exit 1; }
done
build_target petstore
petstore=$BUILD_DIR/examples/petstore/petstore
[[ -x $petstore ]] || { say "no petstore binary at $petstore"; exit 1; }
help=$("$petstore" --help 2>&1 || true)
if [[ $help != *--store* || $help != *unrefusing* ]]; then
  say "this petstore has no --store or no --limits unrefusing: nothing to compare"; exit 1
fi

# --- servers ---------------------------------------------------------------------------------
make_tmp redis
path=/prod/pets/1
expected='{"id":1,"type":"dog","price":249.99}'
key=redisbenchkey0123456789abcdefghijklmnop
header="x-api-key: $key"

# redis-server beside wrk, keeping nothing on disk; its log is $tmp/redis.log.
redis_port="" redis_pid=""
take_port redis_port
taskset -c "$CLIENT_CPU" redis-server --bind 127.0.0.1 --port "$redis_port" --save '' \
  --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
pids+=($!)
redis_pid=$!
rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
for ((i = 0; i < 100; i++)); do
  kill -0 "$redis_pid" 2>/dev/null || { say "redis-server exited:"; cat "$tmp/redis.log" >&2; exit 1; }
  [[ $(rcli ping 2>/dev/null) == PONG ]] && break
  sleep 0.1
done
[[ $(rcli ping 2>/dev/null) == PONG ]] || { say "redis-server does not answer on :$redis_port"; exit 1; }

memory_pid="" memory_port="" redis_row_pid="" redis_row_port=""
start_program memory "$petstore" --limits unrefusing --api-key "$key"
start_program redis_row "$petstore" --limits unrefusing --api-key "$key" \
  --store "redis://127.0.0.1:$redis_port" --store-fail closed

rows=(memory redis)
declare -A row_url row_label row_pids
row_url[memory]="http://127.0.0.1:$memory_port$path"
row_url[redis]="http://127.0.0.1:$redis_row_port$path"
row_label[memory]="memory store"
row_label[redis]="redis store"
row_pids[memory]=$memory_pid
row_pids[redis]=$redis_row_pid
await memory "${row_url[memory]}" "$memory_pid" "$header" "$expected" >/dev/null
await redis_row "${row_url[redis]}" "$redis_row_pid" "$header" "$expected" >/dev/null

# --- load ------------------------------------------------------------------------------------
say "petstores on 127.0.0.1:$memory_port (memory) and :$redis_row_port (redis), redis-server on :$redis_port"
say "petstores on CPU $SERVER_CPU, wrk -t1 and redis-server on CPU $CLIENT_CPU; $CONNECTIONS connections, ${DURATION}s x $ROUNDS rounds each, ${WARMUP}s warm-up"
# Other work on the machine skews req/s and latency: say how busy it was, before and after.
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
for k in "${rows[@]}"; do run_wrk "${row_url[$k]}" "$WARMUP" "$header" >/dev/null; done
# Count Redis's commands from here on: the measured runs only.
rcli config resetstat >/dev/null

declare -A rps p50 p99 cpu rcpu
redis_requests=0
printf '\n%-5s  %-14s %10s %9s %9s %11s %11s\n' round row req/s "p50 ms" "p99 ms" "gw cpu us" "redis cpu us"
warn=0
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${rows[@]}")
  ((r % 2 == 0)) && order=(redis memory)
  for k in "${order[@]}"; do
    before=$(cpu_ticks "${row_pids[$k]}")
    rbefore=$(cpu_ticks "$redis_pid")
    read -r q l n bad m < <(run_wrk "${row_url[$k]}" "$DURATION" "$header") || true
    [[ -n ${m:-} && ${n:-0} -gt 0 ]] || { say "wrk against ${row_url[$k]} failed"; exit 1; }
    after=$(cpu_ticks "${row_pids[$k]}")
    rafter=$(cpu_ticks "$redis_pid")
    c=$(cpu_us $((after - before)) "$n")
    rc=$(cpu_us $((rafter - rbefore)) "$n")
    rps[$k]+="$q " p50[$k]+="$m " p99[$k]+="$l " cpu[$k]+="$c " rcpu[$k]+="$rc "
    [[ $k == redis ]] && redis_requests=$((redis_requests + n))
    flag=""
    ((bad > 0)) && { flag="!"; warn=1; }
    [[ $k == memory ]] && rc="($rc)"
    printf '%-5s  %-14s %10s %9s %9s %11s %11s\n' "$r" "${row_label[$k]}" "$q$flag" "$m" "$l" "$c" "$rc"
  done
done
((warn)) && say "! marks runs with non-2xx responses or socket errors"
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"

# --- figures ---------------------------------------------------------------------------------
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
printf '\n%-20s %10s %9s %9s %11s %11s\n' "median of $ROUNDS runs" req/s "p50 ms" "p99 ms" "gw cpu us" \
  "redis cpu us"
declare -A med_rps med_p50 med_p99 med_cpu
for k in "${rows[@]}"; do
  med_rps[$k]=$(med "${rps[$k]}")
  med_p50[$k]=$(med "${p50[$k]}")
  med_p99[$k]=$(med "${p99[$k]}")
  med_cpu[$k]=$(med "${cpu[$k]}")
  rc=-
  [[ $k == redis ]] && rc=$(printf '%.2f' "$(med "${rcpu[$k]}")")
  printf '%-20s %10.0f %9.3f %9.3f %11.2f %11s\n' "${row_label[$k]}" "${med_rps[$k]}" \
    "${med_p50[$k]}" "${med_p99[$k]}" "${med_cpu[$k]}" "$rc"
done
# The median over rounds of A's run - B's run in the same round (ms, three decimals).
round_diff() {
  paste <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) |
    awk '{ print $1 - $2 }' | median | awk '{ printf "%+.3f", $1 }'
}
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }
rps_ratio=$(ratio "${med_rps[redis]}" "${med_rps[memory]}")
rps_round=$(round_ratio "${rps[redis]}" "${rps[memory]}")
p99_diff=$(diff_ms "${med_p99[redis]}" "${med_p99[memory]}")
p99_round=$(round_diff "${p99[redis]}" "${p99[memory]}")
printf '\n%-20s %12s %12s\n' "redis / memory" "of medians" "per round"
printf '%-20s %12s %12s\n' "req/s ratio" "$rps_ratio" "$rps_round"
printf '%-20s %12s %12s\n' "gw cpu ratio" "$(ratio "${med_cpu[redis]}" "${med_cpu[memory]}")" \
  "$(round_ratio "${cpu[redis]}" "${cpu[memory]}")"
printf '%-20s %12s %12s\n' "p50 difference ms" "$(diff_ms "${med_p50[redis]}" "${med_p50[memory]}")" \
  "$(round_diff "${p50[redis]}" "${p50[memory]}")"
printf '%-20s %12s %12s\n' "p99 difference ms" "$p99_diff" "$p99_round"
# The goal, judged on the per-round figures (the ratio of medians is printed beside them).
awk -v q="$rps_round" -v d="$p99_round" 'BEGIN {
  printf "\ngoal: req/s ratio >= 0.85: %.2f, %s; p99 difference < 1 ms: %.3f ms, %s\n", q,
    (q >= 0.85) ? "met" : sprintf("missed by %.2f", 0.85 - q), d,
    (d < 1) ? "met" : sprintf("missed by %.3f ms", d - 1) }'

# --- did the redis row use Redis? ------------------------------------------------------------
stats=$(rcli info commandstats | tr -d '\r')
evalsha=$(sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' <<<"$stats")
evalsha=${evalsha:-0}
others=$(awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_evalsha" && $1 != "cmdstat_info" {
  printf "%s%s %s", sep, substr($1, 9), $3; sep = ", " }' <<<"$stats")
printf '\nredis-server INFO commandstats over the measured runs:\n  %s\n' \
  "$(grep '^cmdstat_evalsha:' <<<"$stats" || echo 'cmdstat_evalsha: none')"
printf '  other commands (those the script calls included): %s\n' "${others:-none}"
printf '  requests the redis rows got answered: %d; EVALSHA per request: %s\n' "$redis_requests" \
  "$(awk -v e="$evalsha" -v n="$redis_requests" 'BEGIN { printf "%.3f", e / n }')"
usage_total=$(rcli --scan --pattern '*usage/*' | while read -r k; do rcli get "$k"; done |
  awk '{ s += $1 } END { print s + 0 }')
printf '  requests Redis counted (usage counters, warm-ups included): %d\n' "$usage_total"
if ((usage_total < redis_requests)); then
  say "FAILED: Redis counted fewer requests ($usage_total) than the redis rows got answered ($redis_requests): not every request was admitted on Redis"
  exit 1
fi
# The store's warnings (Redis lost, evicting, …) go to petstore's stderr.
if grep '^gatehouse warning: redis' "$tmp/redis_row.log" >&2; then
  say "(the redis row's petstore warned as above)"
fi
exit 0
