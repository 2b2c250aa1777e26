#!/usr/bin/env bash
# Load benchmark: wrk against gatehouse's petstore example (plain HTTP) and, in the same run,
# against nginx and HAProxy doing the same work with one worker/thread each:
#
#   gatehouse (petstore --http)        GET /prod/pets/1, answered by petstore itself
#   nginx return 200                   the same response from nginx `return 200`
#   nginx proxy_pass -> gatehouse      nginx (upstream keepalive) in front of petstore
#   gatehouse proxy -> nginx backend   petstore --backend: GET /prod/legacy/pets/1 -> backend /pets/1
#   nginx proxy_pass -> nginx backend  the same path mapping by nginx (upstream keepalive 128)
#   haproxy -> nginx backend           the same path mapping by HAProxy (http-reuse always)
#   gatehouse GET /pets, cache hits    GET /prod/pets?type=dog (the list), served from the stage
#                                      cache (petstore caches GET /pets for 300 s)
#   gatehouse GET /pets, no cache      the same from a petstore started with --no-cache
#   nginx return 200, the list         nginx answering that list with `return 200`
#   gatehouse, cached authorizer       a petstore with --authorize-reads: GET /prod/pets/1 behind its
#                                      custom TOKEN authorizer, every result from its cache
#   gatehouse, JWT RS256               the same petstore's GET /prod/pets/1/owner with an RS256 JWT
#                                      (RFC 7515's A.2 key, from --jwks FILE: a cached JWKS)
#   gatehouse, every limit on          a second petstore with --limits unrefusing: the API key
#                                      required, throttles at every level and the plan's quota
#                                      checked on GET /prod/pets/1, with limits too high to refuse
#   imported API (gatehouse-serve)     gatehouse-serve serving bench/serve/api.json (HTTP_PROXY
#                                      routes, ANY /legacy/{proxy+} among them) with the backend as
#                                      its stage variable: GET /prod/legacy/pets/1 -> backend /pets/1
#   the same API composed in C++       bench_composed: that API written in C++, served with the
#                                      same listener, gateway options and stage
#   gatehouse, everything observed     petstore with metrics, metering, the JSON access log to a
#                                      file and the stage's tracing, GET /prod/pets/1 carrying a
#                                      sampled traceparent (the trace propagated; no collector)
#   gatehouse, nothing observed        petstore with --no-metrics --no-metering, the same request
#
# The first petstore runs with --limits off (no account throttle), like nginx; the last row
# against the first gives what steps 5 and 6 (API key, usage plan, throttle, quota) cost.
#
# The last three share one backend: its own nginx (one worker) answering /pets/1 with the same
# JSON. Like gatehouse (AWS's HTTP_PROXY), the nginx and HAProxy proxies add X-Forwarded-For,
# -Proto and -Host. Within each round the rows run one after another, rows compared next to each
# other, forwards in odd rounds and backwards in even ones, so drift hits them all alike. Prints each run, then medians of req/s, p99 latency and server CPU time
# per request, and the ratios gatehouse / nginx (direct), gatehouse proxy / nginx proxy_pass and
# gatehouse proxy / haproxy: of the medians, and (req/s/round, cpu/round) the median over rounds
# of the two rows' ratio within one round, which follows a drifting machine better.
#
#   bench/load.sh [--rounds N] [--duration SECONDS] [--connections N] [--warmup SECONDS]
#                 [--no-proxy] [--no-limits] [--no-cache] [--no-auth] [--no-import]
#                 [--no-observe]
#                 [--build-dir DIR]
#
# The same settings can come from the environment: ROUNDS (5), DURATION (5), CONNECTIONS (50),
# WARMUP (2), PROXY (1; 0 or --no-proxy skips all the proxy rows), LIMITS (1; 0 or --no-limits
# skips the row with every limit on), CACHE (1; 0 or --no-cache skips the three cache rows),
# IMPORT (1; 0 or --no-import skips the imported and composed rows; they need the proxy rows'
# backend), OBSERVE (1; 0 or --no-observe skips the two rows of everything and nothing observed),
# BUILD_DIR (build/release),
# JOBS (2), SERVER_CPU (0), CLIENT_CPU (1). For testing this script only, GATEHOUSE_PROXY_URL
# replaces the gatehouse proxy row's URL (petstore then runs without --backend); BACKEND in it
# stands for the backend's address, e.g. GATEHOUSE_PROXY_URL=http://BACKEND/pets/1.
#
# All servers (proxies and backend) are pinned to SERVER_CPU and wrk (one thread) to CLIENT_CPU:
# on a 2-core machine that cuts the run-to-run spread from ~14-28 % to ~5-7 %. Besides req/s and
# p99, each run reports the servers' CPU time per request ("cpu us", user + system, from /proc;
# for proxy rows the proxy plus what is behind it), which stays meaningful when other work
# shares the machine. Everything listens on 127.0.0.1 only; every server started here is
# stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-50}
WARMUP=${WARMUP:-2}
PROXY=${PROXY:-1}
LIMITS=${LIMITS:-1}
CACHE=${CACHE:-1}
AUTH=${AUTH:-1}
IMPORT=${IMPORT:-1}
OBSERVE=${OBSERVE:-1}
BUILD_DIR=${BUILD_DIR:-$root/build/release}
JOBS=${JOBS:-2}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
GATEHOUSE_PROXY_URL=${GATEHOUSE_PROXY_URL:-}

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
    --no-proxy) PROXY=0; shift ;;
    --no-limits) LIMITS=0; shift ;;
    --no-cache) CACHE=0; shift ;;
    --no-auth) AUTH=0; shift ;;
    --no-import) IMPORT=0; shift ;;
    --no-observe) OBSERVE=0; shift ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "load.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done
for v in ROUNDS DURATION CONNECTIONS WARMUP; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ $PROXY == [01] ]] || { echo "load.sh: PROXY must be 0 or 1" >&2; exit 2; }
[[ $LIMITS == [01] ]] || { echo "load.sh: LIMITS must be 0 or 1" >&2; exit 2; }
[[ $CACHE == [01] ]] || { echo "load.sh: CACHE must be 0 or 1" >&2; exit 2; }
[[ $AUTH == [01] ]] || { echo "load.sh: AUTH must be 0 or 1" >&2; exit 2; }
[[ $IMPORT == [01] ]] || { echo "load.sh: IMPORT must be 0 or 1" >&2; exit 2; }
[[ $OBSERVE == [01] ]] || { echo "load.sh: OBSERVE must be 0 or 1" >&2; exit 2; }
[[ $PROXY == 1 ]] || IMPORT=0

say() { printf 'load.sh: %s\n' "$*" >&2; }

# --- dependencies and build ------------------------------------------------------------------
"$root/scripts/install-deps"
PATH=$PATH:/usr/sbin:/sbin  # nginx and haproxy live in /usr/sbin
tools=(wrk nginx taskset curl)
[[ $PROXY == 1 ]] && tools+=(haproxy)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { say "$tool not found (scripts/install-deps installs it)"; exit 1; }
done
build_target petstore
petstore=$BUILD_DIR/examples/petstore/petstore
[[ -x $petstore ]] || { say "no petstore binary at $petstore"; exit 1; }
help=$("$petstore" --help 2>&1 || true)
limits_args=()
if [[ $help == *--limits* ]]; then
  limits_args=(--limits off)
elif [[ $LIMITS == 1 ]]; then
  say "this petstore has no --limits option: no row with limits on"; LIMITS=0
fi
if [[ $AUTH == 1 && $help != *--authorize-reads* ]]; then
  say "this petstore has no authorizers (--authorize-reads): no authorizer rows"; AUTH=0
fi
if [[ $CACHE == 1 && $help != *--no-cache* ]]; then
  say "this petstore has no stage cache (--no-cache): no cache rows"; CACHE=0
fi
if [[ $IMPORT == 1 ]]; then
  build_target gatehouse-serve
  build_target bench_composed
  serve=$BUILD_DIR/examples/serve/gatehouse-serve
  composed=$BUILD_DIR/bench/bench_composed
  [[ -x $serve && -x $composed ]] || { say "no gatehouse-serve or bench_composed in $BUILD_DIR"; exit 1; }
fi
if [[ $PROXY == 1 && -z $GATEHOUSE_PROXY_URL ]]; then
  if [[ $help != *--backend* ]]; then
    say "this petstore has no --backend option, so there is no gatehouse proxy to measure;"
    say "run with --no-proxy (PROXY=0), or set GATEHOUSE_PROXY_URL to test the script"
    exit 1
  fi
fi

# --- servers ---------------------------------------------------------------------------------
make_tmp load

path=/prod/pets/1                # petstore's own route, and nginx return 200's location
proxy_path=/prod/legacy/pets/1   # through a proxy: /prod/legacy/{proxy+} -> backend /{proxy}
backend_path=/pets/1
expected='{"id":1,"type":"dog","price":249.99}'
list_path='/prod/pets?type=dog'   # the cached list, and nginx's second location
list_expected='[{"id":1,"type":"dog","price":249.99}]'

# Set by take_port and start_nginx below.
backend_port="" nginx_port="" ngx_gh_port="" ngx_be_port="" hap_port=""
backend_pid="" nginx_pid="" haproxy_pid=""
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user root;"  # workers may then use the temp dirs below

# Starts an nginx instance NAME (one worker, pinned to SERVER_CPU, prefix $tmp/NAME) whose http
# block holds SERVERS; its error log is $tmp/NAME.log. Sets the variable NAME_pid.
start_nginx() {
  local name=$1 servers=$2 dir=$tmp/$1
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $tmp/$name.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
$servers
}
EOF
  taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
    >"$tmp/$name.out" 2>&1 &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
}

# The backend of the proxy rows.
if [[ $PROXY == 1 ]]; then
  take_port backend_port
  start_nginx backend "
  server {
    listen 127.0.0.1:$backend_port;
    location = $backend_path {
      default_type application/json;
      return 200 '$expected';
    }
  }"
fi

start_petstore() { local name=$1; shift; start_program "$name" "$petstore" "$@"; }

# gatehouse: petstore, with --backend for the gatehouse proxy row.
petstore_args=("${limits_args[@]}")
[[ $PROXY == 1 && -z $GATEHOUSE_PROXY_URL ]] && petstore_args+=(--backend "127.0.0.1:$backend_port")
gh_pid="" gh_port=""
start_petstore gh "${petstore_args[@]}"
# The same with every limit on, and the API key the requests carry.
bench_key=loadbenchkey0123456789abcdefghijklmnop
ghl_pid="" ghl_port=""
[[ $LIMITS == 1 ]] && start_petstore ghl --limits unrefusing --api-key "$bench_key"
# The same as the first without the stage cache.
ghn_pid="" ghn_port=""
[[ $CACHE == 1 ]] && start_petstore ghn "${limits_args[@]}" --no-cache
# Everything issue 24 adds, on and off (see the rows above).
if [[ $OBSERVE == 1 && $help != *--access-log* ]]; then
  say "this petstore has no --access-log: no rows of what observing costs"; OBSERVE=0
fi
gho_pid="" gho_port="" ghx_pid="" ghx_port=""
traceparent="traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
if [[ $OBSERVE == 1 ]]; then
  start_petstore gho "${limits_args[@]}" --access-log "$tmp/access.log" --access-log-format json \
    --tracing
  start_petstore ghx "${limits_args[@]}" --no-metrics --no-metering
fi

# The imported API and the same API composed in C++, against the proxy rows' backend.
gsi_pid="" gsi_port="" gsc_pid="" gsc_port=""
if [[ $IMPORT == 1 ]]; then
  start_program gsi "$serve" --openapi "$root/bench/serve/api.json" --limits off \
    --stage-variable "backend=127.0.0.1:$backend_port"
  start_program gsc "$composed" --limits off --backend "127.0.0.1:$backend_port"
fi

# The same with GET /prod/pets/{petId} behind the demo token's authorizer, and the owner route's
# JWT authorizer keyed with RFC 7515's A.2 RSA key (its Cognito-style vector token is RS256).
gha_pid="" gha_port=""
jwt_vectors=$root/../shared/vectors/jwt
if [[ $AUTH == 1 ]]; then
  start_petstore gha "${limits_args[@]}" --authorize-reads --jwks "$jwt_vectors/jwks_rfc7515_public.json" \
    --jwt-issuer https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE \
    --jwt-audience 3n4b5urk1ft4fl3mg5e62d9ado
  bench_jwt=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['tokens']['cognito_access_valid_until_2100']['token'])" \
    "$jwt_vectors/derived/cognito_style_tokens_rfc7515_A2_key.json")
fi

# nginx as a peer of gatehouse: return 200, and (proxy rows) proxy_pass to petstore and to the
# backend, with upstream keepalive, one worker for all of them.
take_port nginx_port
servers="
  server {
    listen 127.0.0.1:$nginx_port;
    location = $path {
      default_type application/json;
      return 200 '$expected';
    }
    location = ${list_path%%\?*} {
      default_type application/json;
      return 200 '$list_expected';
    }
  }"
if [[ $PROXY == 1 ]]; then
  take_port ngx_gh_port
  take_port ngx_be_port
  servers+="
  upstream gatehouse {
    server 127.0.0.1:$gh_port;
    keepalive 128;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$ngx_gh_port;
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }
  upstream backend {
    server 127.0.0.1:$backend_port;
    keepalive 128;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$ngx_be_port;
    location /prod/legacy/ {
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }"
fi
start_nginx nginx "$servers"

# HAProxy in front of the backend: one thread, server-side connection reuse.
if [[ $PROXY == 1 ]]; then
  take_port hap_port
  cat >"$tmp/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  maxconn 4096
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-request 60s
  timeout http-keep-alive 300s
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend proxy
  bind 127.0.0.1:$hap_port
  default_backend backend
backend backend
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request replace-path ^/prod/legacy(/.*)\$ \1
  server backend 127.0.0.1:$backend_port
EOF
  haproxy -c -f "$tmp/haproxy.cfg" >"$tmp/haproxy.check" 2>&1 || {
    say "haproxy rejects its configuration:"; cat "$tmp/haproxy.check" >&2; exit 1; }
  grep -qi 'warning\|alert' "$tmp/haproxy.check" && { say "haproxy -c:"; cat "$tmp/haproxy.check" >&2; }
  # -db: stay in the foreground (no daemon), so that the pid is HAProxy's.
  taskset -c "$SERVER_CPU" haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
  pids+=($!)
  haproxy_pid=$!
fi

# --- rows ------------------------------------------------------------------------------------
# Each row: a key, its URL, its label, the processes that serve it (for CPU time; the first is
# watched while waiting for an answer) and the name of the log to show if that one dies.
rows=()
declare -A row_url row_label row_pids row_log row_size row_header row_expected
add_row() {
  rows+=("$1")
  row_url[$1]=$2; row_label[$1]=$3; row_pids[$1]=$4; row_log[$1]=$5; row_header[$1]=${6:-}
  row_expected[$1]=${7:-$expected}
}
add_row gh "http://127.0.0.1:$gh_port$path" "gatehouse (petstore --http)" "$gh_pid" gh
add_row nginx "http://127.0.0.1:$nginx_port$path" "nginx return 200" "$nginx_pid" nginx
# Rows compared with each other run next to each other (see the round loop).
if [[ $AUTH == 1 ]]; then
  add_row gha_custom "http://127.0.0.1:$gha_port$path" "gatehouse, cached authorizer" "$gha_pid" \
    gha "Authorization: Bearer allow"
  add_row gha_jwt "http://127.0.0.1:$gha_port$path/owner" "gatehouse, JWT RS256" "$gha_pid" gha \
    "Authorization: Bearer $bench_jwt" \
    '{"petId":1,"owner":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","issuer":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE"}'
fi
if [[ $PROXY == 1 ]]; then
  add_row ngx_gh "http://127.0.0.1:$ngx_gh_port$path" "nginx proxy_pass -> gatehouse" \
    "$nginx_pid $gh_pid" nginx
  gh_be_url="http://127.0.0.1:$gh_port$proxy_path"
  [[ -n $GATEHOUSE_PROXY_URL ]] && gh_be_url=${GATEHOUSE_PROXY_URL//BACKEND/127.0.0.1:$backend_port}
  add_row gh_be "$gh_be_url" "gatehouse proxy -> nginx backend" "$gh_pid $backend_pid" gh
  add_row ngx_be "http://127.0.0.1:$ngx_be_port$proxy_path" "nginx proxy_pass -> nginx backend" \
    "$nginx_pid $backend_pid" nginx
  add_row hap_be "http://127.0.0.1:$hap_port$proxy_path" "haproxy -> nginx backend" \
    "$haproxy_pid $backend_pid" haproxy
  s=$(await backend "http://127.0.0.1:$backend_port$backend_path" "$backend_pid" "" "$expected")
fi
if [[ $CACHE == 1 ]]; then
  add_row nginx_list "http://127.0.0.1:$nginx_port$list_path" "nginx return 200, the list" \
    "$nginx_pid" nginx "" "$list_expected"
  add_row gh_hit "http://127.0.0.1:$gh_port$list_path" "gatehouse GET /pets, cache hits" "$gh_pid" \
    gh "" "$list_expected"
  add_row gh_nocache "http://127.0.0.1:$ghn_port$list_path" "gatehouse GET /pets, no cache" \
    "$ghn_pid" ghn "" "$list_expected"
fi
if [[ $IMPORT == 1 ]]; then
  add_row gsi "http://127.0.0.1:$gsi_port$proxy_path" "imported API (gatehouse-serve)" \
    "$gsi_pid $backend_pid" gsi
  add_row gsc "http://127.0.0.1:$gsc_port$proxy_path" "the same API composed in C++" \
    "$gsc_pid $backend_pid" gsc
fi
[[ $LIMITS == 1 ]] && add_row ghl "http://127.0.0.1:$ghl_port$path" "gatehouse, every limit on" \
  "$ghl_pid" ghl "x-api-key: $bench_key"
if [[ $OBSERVE == 1 ]]; then
  add_row gho "http://127.0.0.1:$gho_port$path" "gatehouse, everything observed" "$gho_pid" gho \
    "$traceparent"
  add_row ghx "http://127.0.0.1:$ghx_port$path" "gatehouse, nothing observed" "$ghx_pid" ghx \
    "$traceparent"
fi
for k in "${rows[@]}"; do
  pid=${row_pids[$k]%% *}
  s=$(await "${row_log[$k]}" "${row_url[$k]}" "$pid" "${row_header[$k]}" "${row_expected[$k]}")
  row_size[$k]=$s
done

# --- load ------------------------------------------------------------------------------------

say "gatehouse on 127.0.0.1:$gh_port, nginx on 127.0.0.1:$nginx_port$(
  [[ $PROXY == 1 ]] && echo ", nginx proxies on 127.0.0.1:$ngx_gh_port (gatehouse) and :$ngx_be_port (backend), haproxy on :$hap_port, backend nginx on :$backend_port")"
[[ -n $GATEHOUSE_PROXY_URL ]] && say "TESTING: the gatehouse proxy row measures ${row_url[gh_be]}, not gatehouse"
say "servers on CPU $SERVER_CPU, wrk -t1 on CPU $CLIENT_CPU; $CONNECTIONS connections, ${DURATION}s x $ROUNDS rounds each, ${WARMUP}s warm-up"
# Other work on the machine skews req/s and latency: say how busy it was, before and after.
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
for k in "${rows[@]}"; do run_wrk "${row_url[$k]}" "$WARMUP" "${row_header[$k]}" >/dev/null; done

declare -A rps p99 cpu
printf '\n%-5s  %-34s %10s %9s %9s\n' round target req/s "p99 ms" "cpu us"
warn=0
for ((r = 1; r <= ROUNDS; r++)); do
  # Odd rounds run the rows in order, even rounds backwards: a drift that is steady over a pair
  # of rounds then favours neither of two rows compared.
  order=("${rows[@]}")
  ((r % 2 == 0)) && for ((i = ${#rows[@]} - 1, j = 0; i >= 0; i--, j++)); do order[j]=${rows[i]}; done
  for k in "${order[@]}"; do
    # shellcheck disable=SC2086
    before=$(cpu_ticks ${row_pids[$k]})
    read -r q l n bad _ < <(run_wrk "${row_url[$k]}" "$DURATION" "${row_header[$k]}") || true
    [[ -n ${q:-} && -n ${bad:-} && ${n:-0} -gt 0 ]] || { say "wrk against ${row_url[$k]} failed"; exit 1; }
    # shellcheck disable=SC2086
    after=$(cpu_ticks ${row_pids[$k]})
    c=$(cpu_us $((after - before)) "$n")
    rps[$k]+="$q "
    p99[$k]+="$l "
    cpu[$k]+="$c "
    flag=""
    ((bad > 0)) && { flag="!"; warn=1; }
    printf '%-5s  %-34s %10s %9s %9s\n' "$r" "${row_label[$k]}" "$q$flag" "$l" "$c"
  done
done
((warn)) && say "! marks runs with non-2xx responses or socket errors"
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"

printf '\n%-34s %10s %9s %12s %11s\n' "median of $ROUNDS runs" "req/s" "p99 ms" "server cpu" "resp bytes"
declare -A med_rps med_p99 med_cpu
for k in "${rows[@]}"; do
  med_rps[$k]=$(tr ' ' '\n' <<<"${rps[$k]}" | grep . | median)
  med_p99[$k]=$(tr ' ' '\n' <<<"${p99[$k]}" | grep . | median)
  med_cpu[$k]=$(tr ' ' '\n' <<<"${cpu[$k]}" | grep . | median)
  printf '%-34s %10.0f %9.3f %9.2f us %11s\n' "${row_label[$k]}" "${med_rps[$k]}" "${med_p99[$k]}" \
    "${med_cpu[$k]}" "${row_size[$k]}"
done
# Prints the ratios of row A's medians to row B's under LABEL.
ratio_line() {
  printf '%-34s %10s %9s %12s %12s %12s\n' "$1" "$(ratio "${med_rps[$2]}" "${med_rps[$3]}")" \
    "$(ratio "${med_p99[$2]}" "${med_p99[$3]}")" "$(ratio "${med_cpu[$2]}" "${med_cpu[$3]}")" \
    "$(round_ratio "${rps[$2]}" "${rps[$3]}")" "$(round_ratio "${cpu[$2]}" "${cpu[$3]}")"
}
printf '\n%-34s %10s %9s %12s %12s %12s\n' "ratios of medians, then per round" "req/s" "p99" \
  "server cpu" "req/s/round" "cpu/round"
ratio_line "gatehouse / nginx return 200" gh nginx
if [[ $PROXY == 1 ]]; then
  ratio_line "gatehouse / nginx proxy_pass to it" gh ngx_gh
  ratio_line "gatehouse proxy / nginx proxy_pass" gh_be ngx_be
  ratio_line "gatehouse proxy / haproxy" gh_be hap_be
fi
if [[ $CACHE == 1 ]]; then
  ratio_line "gatehouse cache hits / no cache" gh_hit gh_nocache
  ratio_line "gatehouse cache hits / nginx" gh_hit nginx_list
fi
if [[ $AUTH == 1 ]]; then
  ratio_line "gatehouse cached authorizer / none" gha_custom gh
  ratio_line "gatehouse JWT RS256 / none" gha_jwt gh
fi
[[ $LIMITS == 1 ]] && ratio_line "gatehouse limits on / off" ghl gh
[[ $IMPORT == 1 ]] && ratio_line "imported API / composed in C++" gsi gsc
[[ $OBSERVE == 1 ]] && ratio_line "everything / nothing observed" gho ghx
exit 0
