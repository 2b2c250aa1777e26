# Shell helpers shared by the load benchmarks (bench/load.sh, bench/ws.sh); sourced, not run.
# The sourcing script sets root, BUILD_DIR, JOBS and defines say().

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
