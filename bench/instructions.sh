#!/usr/bin/env bash
# Instructions per request, counted by callgrind, for the comparisons of bench/load.sh whose
# differences (a few percent) the drift of a shared machine hides in req/s and CPU time:
#
#   gatehouse GET /prod/pets?type=dog, cache hits   against nginx return 200 of the same list
#   gatehouse GET /prod/pets/1, cached authorizer   against the same route without authorization
#   (petstore --authorize-reads, Authorization: Bearer allow)
#   gatehouse with its metrics (the default)        against petstore --no-metrics, for cache hits
#   and GET /prod/pets/1; and with --detailed-metrics (a second series per request)
#   gatehouse with its metering (the default)       against petstore --no-metering, and metrics
#   and metering both on against both off (--no-metrics --no-metering), for cache hits and /pets/1
#   an imported API's GET /prod/legacy/pets/1       against the same API composed in C++
#   (gatehouse-serve over bench/serve/api.json against bench_composed; both proxy to an nginx
#   backend, which runs outside callgrind and is not counted)
#
# --with FLAGS adds a row: GET /prod/pets/1 from petstore run with FLAGS as well (what an
# observability feature costs per request, e.g. --with '--access-log /tmp/a.log
# --access-log-format json'), with its ratio to the plain row and its largest additions. Every
# thread of the server is counted, so a feature's own threads (an access log's writer) are too.
#
# Each server runs alone under valgrind --tool=callgrind (nginx with master_process off, so that
# one process does the work); wrk warms it up, callgrind's counters are zeroed, wrk runs again,
# and the instructions of that window (user space: the kernel's share is the same for all, as
# the system calls per request are) are divided by wrk's requests. The counts hardly depend on
# what else runs on the machine. Prints the counts, the ratios, and the functions that differ
# most between the two authorizer rows and between the imported and composed rows.
#
#   bench/instructions.sh [--duration SECONDS] [--connections N] [--build-dir DIR] [--with FLAGS]
#                         [--only 'ROW…']
#
# --only runs only the rows named (by the names the script keeps their counts under: hit,
# nginx_list, plain, auth, hit_off, plain_off, plain_detailed, with, hit_nometering,
# plain_nometering, hit_bare, plain_bare, all_on, all_off, imported, composed); the ratios of
# rows not run print n/a.
#
# Environment: DURATION (5), CONNECTIONS (50), WARMUP (2), BUILD_DIR (build/release), JOBS (2),
# SERVER_CPU (0), CLIENT_CPU (1). Everything listens on 127.0.0.1 only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { echo "instructions.sh: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

DURATION=${DURATION:-5} CONNECTIONS=${CONNECTIONS:-50} WARMUP=${WARMUP:-2}
BUILD_DIR=${BUILD_DIR:-$root/build/release} JOBS=${JOBS:-2} WITH=${WITH:-} ONLY=${ONLY:-}
SERVER_CPU=${SERVER_CPU:-0} CLIENT_CPU=${CLIENT_CPU:-1}
while (($#)); do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --with) WITH=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) say "unknown option $1"; usage 2 >&2 ;;
  esac
done
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"

"$root/scripts/install-deps"
PATH=$PATH:/usr/sbin:/sbin
for tool in valgrind callgrind_control callgrind_annotate wrk nginx taskset curl; do
  command -v "$tool" >/dev/null || { say "$tool not found (scripts/install-deps installs it)"; exit 1; }
done
build_target petstore
build_target gatehouse-serve
build_target bench_composed
petstore=$BUILD_DIR/examples/petstore/petstore
serve=$BUILD_DIR/examples/serve/gatehouse-serve
composed=$BUILD_DIR/bench/bench_composed

tmp=$(mktemp -d /tmp/gatehouse-instructions.XXXXXX)
server_pid="" backend_pid=""
stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
stop_backend() {
  [[ -n $backend_pid ]] || return 0
  kill -TERM "$backend_pid" 2>/dev/null || true
  wait "$backend_pid" 2>/dev/null || true
  backend_pid=""
}
# KEEP=DIR keeps the callgrind counts there (DIR/NAME.cg) for callgrind_annotate.
trap 'stop_server; stop_backend; [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP"; cp "$tmp"/*.cg "$KEEP"/ 2>/dev/null; }; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pet='{"id":1,"type":"dog","price":249.99}'
list='[{"id":1,"type":"dog","price":249.99}]'
port=$((10000 + RANDOM % 20000))  # below the ephemeral ports (32768 up)
backend_port=$((port + 1))
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user root;"
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
master_process off;
daemon off;
error_log $tmp/nginx.log;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp;
  uwsgi_temp_path $tmp; scgi_temp_path $tmp;
  server {
    listen 127.0.0.1:$port;
    location = /prod/pets { default_type application/json; return 200 '$list'; }
    location = /prod/pets/1 { default_type application/json; return 200 '$pet'; }
  }
}
EOF
# The proxied rows' backend (outside callgrind): the same nginx, answering /pets/1.
mkdir -p "$tmp/backend"
sed -e "s|listen 127.0.0.1:$port;|listen 127.0.0.1:$backend_port;|" \
  -e "s|location = /prod/pets/1 |location = /pets/1 |" -e "s|$tmp/nginx\.|$tmp/backend/nginx.|g" \
  "$tmp/nginx.conf" >"$tmp/backend/nginx.conf"

# Runs one row: NAME, the expected body, the URL path, a header (or ""), then the server's
# command. Prints "NAME <instructions per request> <requests>" and keeps the counts' file.
measure() {
  local name=$1 want=$2 url="http://127.0.0.1:$port$3" header=$4 i out n total
  shift 4
  taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$tmp/$name.cg.%p" \
    "$@" >"$tmp/$name.log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 200; i++)); do
    out=$(curl -s ${header:+-H "$header"} "$url" 2>/dev/null) && [[ $out == "$want" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { say "$name exited:"; cat "$tmp/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ $out == "$want" ]] || { say "$name does not answer $url with $want"; exit 1; }
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" ${header:+-H "$header"} "$url" >/dev/null
  callgrind_control -z "$server_pid" >/dev/null 2>&1  # the counts start here
  n=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" ${header:+-H "$header"} \
    "$url" | awk '/ requests in / { print $1 }')
  callgrind_control -d "$server_pid" >/dev/null 2>&1
  stop_server
  local file
  file=$(ls -t "$tmp/$name".cg.* | grep -v '\.cg\.[0-9]*$' | head -1)
  total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1 }')
  [[ -n $total && ${n:-0} -gt 0 ]] || { say "no counts for $name"; exit 1; }
  mv "$file" "$tmp/$name.cg"
  echo "$name $((total / n)) $n"
}

say "servers under callgrind on CPU $SERVER_CPU, wrk -t1 -c$CONNECTIONS on CPU $CLIENT_CPU, ${WARMUP}s warm-up, ${DURATION}s counted"
declare -A ir reqs
printf '%-46s %13s %10s\n' "user-space instructions per request" "instructions" requests
row() {
  local label=$1 name=$2 want=$3 path=$4 header=$5 count requests
  shift 5
  [[ -z $ONLY || " $ONLY " == *" $name "* ]] || return 0
  read -r _ count requests < <(measure "$name" "$want" "$path" "$header" "$@")
  ir[$name]=$count
  reqs[$name]=$requests
  printf '%-46s %13s %10s\n' "$label" "$count" "$requests"
}
gatehouse=("$petstore" --http --listen "127.0.0.1:$port" --limits off)
row "gatehouse GET /prod/pets?type=dog, cache hits" hit "$list" "/prod/pets?type=dog" "" \
  "${gatehouse[@]}"
row "nginx return 200, the list" nginx_list "$list" "/prod/pets?type=dog" "" \
  nginx -p "$tmp" -c "$tmp/nginx.conf"
row "gatehouse GET /prod/pets/1" plain "$pet" /prod/pets/1 "" "${gatehouse[@]}"
row "gatehouse GET /prod/pets/1, cached authorizer" auth "$pet" /prod/pets/1 \
  "Authorization: Bearer allow" "${gatehouse[@]}" --authorize-reads
row "gatehouse cache hits, metrics off" hit_off "$list" "/prod/pets?type=dog" "" \
  "${gatehouse[@]}" --no-metrics
row "gatehouse GET /prod/pets/1, metrics off" plain_off "$pet" /prod/pets/1 "" \
  "${gatehouse[@]}" --no-metrics
row "gatehouse GET /prod/pets/1, detailed metrics" plain_detailed "$pet" /prod/pets/1 "" \
  "${gatehouse[@]}" --detailed-metrics
if [[ -n $WITH ]]; then
  read -r -a with_flags <<<"$WITH"
  row "gatehouse GET /prod/pets/1, --with" with "$pet" /prod/pets/1 "" "${gatehouse[@]}" \
    "${with_flags[@]}"
fi
row "gatehouse cache hits, metering off" hit_nometering "$list" "/prod/pets?type=dog" "" \
  "${gatehouse[@]}" --no-metering
row "gatehouse GET /prod/pets/1, metering off" plain_nometering "$pet" /prod/pets/1 "" \
  "${gatehouse[@]}" --no-metering
row "gatehouse cache hits, metrics+metering off" hit_bare "$list" "/prod/pets?type=dog" "" \
  "${gatehouse[@]}" --no-metrics --no-metering
row "gatehouse GET /prod/pets/1, metrics+metering off" plain_bare "$pet" /prod/pets/1 "" \
  "${gatehouse[@]}" --no-metrics --no-metering
# Everything issue 24 adds, on and off, for the same request carrying a sampled traceparent:
# metrics, metering, the JSON access log to a file and the stage's tracing (the trace
# propagated; no collector, so no spans leave), against none of them.
traceparent="traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
row "gatehouse /pets/1, everything observed" all_on "$pet" /prod/pets/1 "$traceparent" \
  "${gatehouse[@]}" --access-log "$tmp/access.log" --access-log-format json --tracing
row "gatehouse /pets/1, nothing observed" all_off "$pet" /prod/pets/1 "$traceparent" \
  "${gatehouse[@]}" --no-metrics --no-metering

if [[ -z $ONLY || " $ONLY " == *" imported "* || " $ONLY " == *" composed "* ]]; then
  taskset -c "$SERVER_CPU" nginx -p "$tmp/backend" -c "$tmp/backend/nginx.conf" >"$tmp/backend.log" 2>&1 &
  backend_pid=$!
fi
row "imported API GET /prod/legacy/pets/1" imported "$pet" /prod/legacy/pets/1 "" \
  "$serve" --openapi "$root/bench/serve/api.json" --http --listen "127.0.0.1:$port" --limits off \
  --stage-variable "backend=127.0.0.1:$backend_port"
row "the same API composed in C++" composed "$pet" /prod/legacy/pets/1 "" \
  "$composed" --http --listen "127.0.0.1:$port" --limits off --backend "127.0.0.1:$backend_port"
stop_backend

printf '\n%-46s %13s\n' "ratios" "instructions"
printf '%-46s %13s\n' "gatehouse cache hits / nginx" "$(ratio "${ir[hit]:-}" "${ir[nginx_list]:-}")"
printf '%-46s %13s\n' "gatehouse cached authorizer / none" "$(ratio "${ir[auth]:-}" "${ir[plain]:-}")"
# What the metrics add, in per cent of the instructions without them (issue 24: under 5 %).
more() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%+.2f %%", (a / b - 1) * 100; else print "n/a" }'; }
printf '%-46s %13s\n' "metrics on / off, cache hits" "$(more "${ir[hit]:-}" "${ir[hit_off]:-}")"
printf '%-46s %13s\n' "metrics on / off, GET /prod/pets/1" "$(more "${ir[plain]:-}" "${ir[plain_off]:-}")"
printf '%-46s %13s\n' "detailed metrics / stage's only, /pets/1" \
  "$(more "${ir[plain_detailed]:-}" "${ir[plain]:-}")"
printf '%-46s %13s\n' "metering on / off, cache hits" "$(more "${ir[hit]:-}" "${ir[hit_nometering]:-}")"
printf '%-46s %13s\n' "metering on / off, GET /prod/pets/1" \
  "$(more "${ir[plain]:-}" "${ir[plain_nometering]:-}")"
printf '%-46s %13s\n' "metrics+metering on / off, cache hits" "$(more "${ir[hit]:-}" "${ir[hit_bare]:-}")"
printf '%-46s %13s\n' "metrics+metering on / off, /pets/1" \
  "$(more "${ir[plain]:-}" "${ir[plain_bare]:-}")"
printf '%-46s %13s\n' "everything / nothing observed, /pets/1" \
  "$(more "${ir[all_on]:-}" "${ir[all_off]:-}")"
printf '%-46s %13s\n' "imported API / composed in C++" "$(ratio "${ir[imported]:-}" "${ir[composed]:-}")"
if [[ -n $WITH ]]; then
  printf '%-46s %13s\n' "--with / plain GET /prod/pets/1" "$(ratio "${ir[with]:-}" "${ir[plain]:-}")"
  printf '%-46s %13s\n' "--with adds" "$(more "${ir[with]:-}" "${ir[plain]:-}")"
  echo "(--with: $WITH)"
fi

# Where the authorizer row's extra instructions go: the functions whose inclusive counts per
# request grew most (callers include their callees, so the list nests).
per_function() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    grep -E '^ *[0-9,]+ \(' | sed -E 's/^ *([0-9,]+) \( *[0-9.]+%\)  (.*)$/\1\t\2/' | tr -d ',' |
    awk -F'\t' -v n="$2" '{ sub(/ \[[^]]*\]$/, "", $2); printf "%s\t%d\n", $2, $1 / n }' |
    sort -t$'\t' -k1,1
}
# The functions whose inclusive counts per request grew most from row B to row A.
additions() {
  [[ -f $tmp/$1.cg && -f $tmp/$2.cg ]] || return 0
  printf '\n%s\n' "$3"
  join -t$'\t' -a1 -e0 -o 0,1.2,2.2 <(per_function "$tmp/$1.cg" "${reqs[$1]}") \
    <(per_function "$tmp/$2.cg" "${reqs[$2]}") |
    awk -F'\t' '{ d = $2 - $3; if (d >= 50) printf "%7d  %s\n", d, substr($1, 1, 100) }' | sort -rn |
    grep -v -E 'PROGRAM TOTALS|libc-start|below main|main \[|scheduler::run|0x0000' | head -12
}
additions auth plain "largest additions of the cached authorizer (instructions per request, inclusive)"
additions imported composed "largest additions of the imported API over the composed one"
additions all_on all_off "largest additions of everything observed (instructions per request, inclusive)"
if [[ -n $WITH ]]; then
  additions with plain "largest additions of --with (instructions per request, inclusive)"
fi
