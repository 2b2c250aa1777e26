# Shell helpers shared by the load benchmarks (bench/load.sh, bench/redis.sh, bench/ws.sh, …);
# sourced, not run. The sourcing script sets root, BUILD_DIR, JOBS and defines say(); the
# helpers that start servers or run wrk also use SERVER_CPU, CLIENT_CPU and CONNECTIONS, and
# $tmp and pids from make_tmp.

# Installs what the benchmarks need (once per run), configures BUILD_DIR (Release, Ninja) when it
# has no cache yet, then builds one target.
build_target() {
  if [[ -z ${_bench_deps_checked:-} ]]; then
    "$root/scripts/install-deps" bench
    _bench_deps_checked=1
  fi
  if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    say "configuring $BUILD_DIR"
    cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  say "building $1 in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --target "$1" -j "$JOBS" >/dev/null
}

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# a / b with two decimals, or n/a when b is not positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# Makes the run's scratch directory $tmp (/tmp/gatehouse-NAME.XXXXXX) and the list pids of the
# processes started in it: on exit each is stopped (TERM) and waited for, and $tmp removed.
make_tmp() {
  tmp=$(mktemp -d "/tmp/gatehouse-$1.XXXXXX")
  pids=()
  trap _bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
_bench_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}

# A loopback port nothing listens on right now and not handed out before in this run (each
# server start is verified anyway).
ports_taken=" "
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((10000 + RANDOM % 20000))  # below the ephemeral ports (32768 up)
    [[ $ports_taken == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  say "no free port found"; exit 1
}
# free_port runs in a subshell when called as $(free_port): remember its answer out here.
take_port() { local p; p=$(free_port); ports_taken+="$p "; printf -v "$1" '%s' "$p"; }

# Waits until URL answers 200 with the JSON WANT (HEADER, if not empty, sent with the request);
# the bytes of a whole response go to stdout. NAME names the output shown when the server (PID)
# dies: $tmp/NAME.log and $tmp/NAME.out.
await() {
  local name=$1 url=$2 pid=$3 header=$4 want=$5 i out
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited; its output:"; cat "$tmp/$name.log" "$tmp/$name.out" >&2 2>/dev/null; exit 1
    fi
    if out=$(curl -s -D "$tmp/$name.head" ${header:+-H "$header"} "$url" 2>/dev/null) &&
      [[ $out == "$want" ]]; then
      if ! grep -qi '^content-type: application/json' "$tmp/$name.head"; then
        say "$name answers $url without Content-Type: application/json"; exit 1
      fi
      echo $(( $(wc -c <"$tmp/$name.head") + ${#out} ))
      return
    fi
    sleep 0.1
  done
  say "$name does not answer $url with $want"; exit 1
}

# Starts PROGRAM (a gatehouse example) as NAME with ARGS, plain HTTP on an ephemeral port,
# pinned to SERVER_CPU (log $tmp/NAME.log); it says "serving http://127.0.0.1:PORT/…". Sets
# NAME_pid and NAME_port.
start_program() {
  local name=$1 program=$2 pid port="" i
  shift 2
  taskset -c "$SERVER_CPU" "$program" --http --listen 127.0.0.1:0 "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  pid=$!
  for ((i = 0; i < 100; i++)); do
    # (the log may not exist yet: the shell that opens it may not have run)
    port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.log" 2>/dev/null |
      head -n1) || true
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || { say "$name exited:"; cat "$tmp/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $port ]] || { say "$name did not report its port"; exit 1; }
  ports_taken+="$port "
  printf -v "${name}_pid" '%s' "$pid"
  printf -v "${name}_port" '%s' "$port"
}

# Runs wrk (one thread on CLIENT_CPU, CONNECTIONS connections) against URL for SECONDS, HEADER
# (if not empty) on every request; prints
# "<req/s> <p99 ms> <requests> <non-2xx or error count> <p50 ms>".
run_wrk() {
  local url=$1 seconds=$2 header=${3:-} out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${seconds}s" --latency \
    ${header:+-H "$header"} "$url")
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v + 0 }
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad += $NF }
    /Socket errors:/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.3f %d %d %.3f\n", rps, p99, n, bad, p50 }' <<<"$out"
}

# CPU time (clock ticks, user + system, all threads) used so far by processes and their children
# processes (nginx's worker). Server CPU per request does not depend on what else runs on the
# machine nearly as much as req/s does, so the benchmarks print it too.
cpu_ticks() {
  local pid kids total=0 f p
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
_bench_hz=$(getconf CLK_TCK)
# TICKS of CPU time spread over N requests: microseconds per request, two decimals.
cpu_us() { awk -v t="$1" -v hz="$_bench_hz" -v n="$2" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }'; }

# The median over rounds of A's run / B's run in the same round (A and B: one figure per round,
# separated by spaces): the rows of one round run a few seconds apart, so this follows the
# machine's drift better than the ratio of medians.
round_ratio() {
  paste <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) |
    awk '$2 > 0 { print $1 / $2 }' | median | awk '{ printf "%.2f", $1 }'
}
