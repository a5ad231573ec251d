#!/usr/bin/env bash
# Side by side on one machine: zicht against clkhash (encoding) and anonlink
# (linking), on the same data, in one run.
#
#   benches/compare/run.sh            # full sizes (about 12 minutes on 2 cores;
#                                     # ZICHT_COMPARE_REPEAT=5 runs per timing)
#   benches/compare/run.sh --quick    # small sizes (about a minute)
#
# Creates benches/compare/.venv, installs anonlink and clkhash from PyPI,
# builds zicht in release mode (no -C target-cpu=native), then:
#   1. encoding: clkhash vs `zicht encode` on one ten-field CSV
#      (zicht's clkhash-compatible mode, whose output is checked to be
#      identical to clkhash's, and zicht's native encoding);
#   2. linking: anonlink find_candidate_pairs + greedy_solve vs `zicht link
#      --no-dedup` on the same CLK JSON files (noisy ten-field records);
#   3. the kernel: the same on random 1024-bit filters, as comparisons/s.
# Each line prints both times and their ratio. Work files go to
# $ZICHT_COMPARE_DIR (default: a new temporary directory).
set -euo pipefail
# Decimal points in $EPOCHREALTIME and awk, whatever the locale.
export LC_ALL=C
cd "$(dirname "$0")/../.."
HERE="$PWD/benches/compare"
VENV=$HERE/.venv
WORK=${ZICHT_COMPARE_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
if [ "${1:-}" = "--quick" ]; then
    ENCODE_SIZES="2000 4000 8000"
    LINK_SIZES="2000 4000 8000"
    RANDOM_N=4000
    REPEAT=1
else
    ENCODE_SIZES="20000 50000 100000"
    LINK_SIZES="10000 20000 40000"
    RANDOM_N=20000
    # Encoding runs are short and a shared machine is noisy: each tool's
    # best of REPEAT runs is reported.
    REPEAT=${ZICHT_COMPARE_REPEAT:-5}
fi
if ! [[ $REPEAT =~ ^[1-9][0-9]*$ ]]; then
    echo "ZICHT_COMPARE_REPEAT must be a positive whole number" >&2
    exit 2
fi
CORES=$(nproc)

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check anonlink==0.15.3 clkhash==0.18.3
PY="$VENV/bin/python"
cargo build --release --locked --quiet --bin zicht
Z="$PWD/target/release/zicht"

seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }
summary() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['timings_ms']['compare'], d['comparisons'], d['pairs_above_threshold']['across'], d['links'])" "$1"; }
# Run a zicht command, print its wall seconds (stop the script if it fails).
timed() {
    local start=$EPOCHREALTIME
    if ! "$@" >/dev/null 2>&1; then
        echo "failed: $*" >&2
        exit 1
    fi
    seconds_since "$start"
}
# The first word of a command's output, once the command has exited (stop
# the script if it fails or prints nothing).
first_of() {
    local out
    out=$("$@") || { echo "failed: $*" >&2; exit 1; }
    read -r out _ <<< "$out"
    [ -n "$out" ] || { echo "no output: $*" >&2; exit 1; }
    echo "$out"
}
# (Results are read from `$(command)`, which waits for the command to exit,
# so that a Python process winding down its workers does not compete with
# the next timing.)
# The smaller of two numbers (the first may be empty).
least() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b < a) print b; else print a }'; }

echo "# zicht side by side with clkhash 0.18.3 and anonlink 0.15.3"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $CORES cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work directory: $WORK"
cd "$WORK"
"$PY" "$HERE/tenfields.py" schemas .
printf 'correct horse battery staple' > secret.txt
rm -f native.secret
"$Z" keygen --out native.secret >/dev/null 2>&1

echo
echo "## 1. Encoding: ten fields, records per second, best of $REPEAT runs each, the contenders taking turns (clkhash timed inside Python, zicht as a whole process)"
echo "| records | clkhash 1 core | zicht clkhash-mode 1 thread | ratio | clkhash $CORES cores | zicht clkhash-mode $CORES threads | ratio | zicht native 1 thread | native ratio (1 vs 1) | zicht native $CORES threads | native ratio ($CORES vs $CORES) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in $ENCODE_SIZES; do
    "$PY" "$HERE/tenfields.py" csv "data$n.csv" "$n" 1
    # Each repetition runs every contender once, in turn, so that all of
    # them meet the host's changing load alike; each keeps its best.
    clk1="" clkn="" z1="" zn="" native1="" nativen=""
    for _ in $(seq "$REPEAT"); do
        s=$(first_of "$PY" "$HERE/clkhash_encode.py" ten.json secret.txt "data$n.csv" "clkhash$n.json" 1)
        clk1=$(least "$clk1" "$s")
        s=$(timed "$Z" encode --schema ten.json --secret-file secret.txt --output-format clkhash-json --out "zicht$n.json" --force --threads 1 "data$n.csv")
        z1=$(least "$z1" "$s")
        s=$(timed "$Z" encode --schema ten.toml --profile ten-profile.toml --secret-file native.secret --out "native$n.zbf" --force --threads 1 "data$n.csv")
        native1=$(least "$native1" "$s")
        s=$(first_of "$PY" "$HERE/clkhash_encode.py" ten.json secret.txt "data$n.csv" "clkhash$n.json" "$CORES")
        clkn=$(least "$clkn" "$s")
        s=$(timed "$Z" encode --schema ten.json --secret-file secret.txt --output-format clkhash-json --out "zicht$n.json" --force --threads "$CORES" "data$n.csv")
        zn=$(least "$zn" "$s")
        s=$(timed "$Z" encode --schema ten.toml --profile ten-profile.toml --secret-file native.secret --out "native$n.zbf" --force --threads "$CORES" "data$n.csv")
        nativen=$(least "$nativen" "$s")
    done
    if ! "$PY" -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))['clks'] != json.load(open(sys.argv[2]))['clks'])" "clkhash$n.json" "zicht$n.json"; then
        echo "zicht's clkhash-mode output differs from clkhash's at $n records" >&2
        exit 1
    fi
    echo "| $n | $(per_second "$n" "$clk1")/s | $(per_second "$n" "$z1")/s | $(ratio "$clk1" "$z1") | $(per_second "$n" "$clkn")/s | $(per_second "$n" "$zn")/s | $(ratio "$clkn" "$zn") | $(per_second "$n" "$native1")/s | $(ratio "$clk1" "$native1") | $(per_second "$n" "$nativen")/s | $(ratio "$clkn" "$nativen") |"
done

echo
echo "## 2. Linking two sources at Dice 0.8: anonlink find_candidate_pairs + greedy_solve vs zicht link --no-dedup (whole process: read, compare, solve, write)"
echo "| records per source | anonlink load | anonlink candidates + solve | zicht 1 thread | ratio (compute) | ratio (with load) | zicht $CORES threads | candidate pairs (anonlink / zicht) | matched (anonlink / zicht) |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in $LINK_SIZES; do
    "$PY" "$HERE/tenfields.py" pair "a$n.csv" "b$n.csv" "$n" 7
    for s in a b; do
        "$Z" encode --schema ten.json --secret-file secret.txt --output-format clkhash-json --out "$s$n.json" --force "$s$n.csv" >/dev/null 2>&1
    done
    out=$("$PY" "$HERE/anonlink_link.py" "a$n.json" "b$n.json" 0.8)
    read -r load cand solve _ acand amatched <<< "$out"
    z1=$(timed "$Z" link "a$n.json" "b$n.json" --threshold 0.8 --no-dedup --threads 1 --out-dir "link$n" --force)
    out=$(summary "link$n/summary.json")
    read -r _ _ zpairs zlinks <<< "$out"
    zn=$(timed "$Z" link "a$n.json" "b$n.json" --threshold 0.8 --no-dedup --threads "$CORES" --out-dir "link$n" --force)
    compute=$(awk -v a="$cand" -v b="$solve" 'BEGIN { printf "%.3f", a + b }')
    total=$(awk -v a="$load" -v b="$compute" 'BEGIN { printf "%.3f", a + b }')
    echo "| $n | ${load} s | ${compute} s | ${z1} s | $(ratio "$compute" "$z1") | $(ratio "$total" "$z1") | ${zn} s | $acand / $zpairs | $amatched / $zlinks |"
done

echo
echo "## 3. The kernel on random 1024-bit filters, $RANDOM_N x $RANDOM_N pairs, one core, best of $REPEAT runs each (zicht: the compare phase of zicht link --threads 1)"
echo "| threshold | anonlink comparisons/s | zicht comparisons/s | ratio | pairs (anonlink / zicht) |"
echo "|---|---|---|---|---|"
"$PY" "$HERE/random_clks.py" r1.json "$RANDOM_N" 11
"$PY" "$HERE/random_clks.py" r2.json "$RANDOM_N" 12
for t in 0.7 0.95; do
    # Best of REPEAT runs of each tool.
    cand=""
    compare_ms=""
    for _ in $(seq "$REPEAT"); do
        out=$("$PY" "$HERE/anonlink_link.py" r1.json r2.json "$t")
        read -r _ c _ comparisons acand _ <<< "$out"
        cand=$(awk -v a="$cand" -v b="$c" 'BEGIN { if (a == "" || b < a) print b; else print a }')
        "$Z" link r1.json r2.json --threshold "$t" --no-dedup --threads 1 --out-dir "random$t" --force >/dev/null 2>&1
        out=$(summary "random$t/summary.json")
        read -r ms _ zpairs _ <<< "$out"
        compare_ms=$(awk -v a="$compare_ms" -v b="$ms" 'BEGIN { if (a == "" || b < a) print b; else print a }')
    done
    arate=$(per_second "$comparisons" "$cand")
    # Both rates over all n x n pairs (zicht skips some by popcount).
    zrate=$(awk -v n="$comparisons" -v ms="$compare_ms" 'BEGIN { if (ms > 0) printf "%.0f", n / (ms / 1000); else print "-" }')
    echo "| $t | $arate | $zrate | $(ratio "$zrate" "$arate") | $acand / $zpairs |"
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
