#!/usr/bin/env bash
# A short, seeded fuzz run of every cargo-fuzz target in fuzz/ (see
# docs/reliability.md). Exits non-zero when any target crashes; the crashing
# input is then in fuzz/artifacts/<target>/: copy it to
# fuzz/regressions/<target>/ so tests/regressions.rs keeps it fixed.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60 (libFuzzer's -max_total_time)
#   TARGET              default: every target (`cargo fuzz list`)
# Environment:
#   ZICHT_FUZZ_SANITIZER  address (default; falls back to none when the
#                         address sanitizer does not build) or none
#   ZICHT_FUZZ_JOBS       parallel libFuzzer workers per target (default 1)
#
# cargo fuzz needs nightly flags; stable Rust is told to allow them with
# RUSTC_BOOTSTRAP=1. cargo-fuzz is installed from crates.io when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

cd fuzz
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

sanitizer=${ZICHT_FUZZ_SANITIZER:-address}
echo "== building the targets (sanitizer: $sanitizer)"
if ! cargo fuzz build -s "$sanitizer"; then
    if [[ $sanitizer == none ]]; then
        echo "fuzz.sh: the fuzz targets do not build" >&2
        exit 1
    fi
    echo "== the $sanitizer sanitizer does not build here; falling back to -s none"
    sanitizer=none
    cargo fuzz build -s none
fi

# Seed each corpus with the project's own valid inputs, so the fuzzer starts
# from files that get deep into each reader.
seed() {
    local target=$1
    shift
    mkdir -p "corpus/$target"
    local file
    for file in "$@"; do
        if [[ -f $file ]]; then
            cp "$file" "corpus/$target/seed-$(basename "$file")"
        fi
    done
}
shared="$root/tests/data"
seed encoded_file "$root/crates/format/tests/golden/v1.zbf"
seed schema_toml "$root/docs/examples/schema.toml"
seed clkhash_schema "$shared"/clkhash/schema_*.json
seed clk_json "$shared"/clkhash/clks_*.json
seed capture_table "$shared"/mse/*.csv
seed csv_encode "$root/docs/examples/registry.csv"
mkdir -p corpus/csv_encode
{
    cat "$root/docs/examples/profile.toml"
    printf '\n%%%%%%\n'
    cat "$root/docs/examples/registry.csv"
} >corpus/csv_encode/seed-profile-and-registry

parallel=()
if [[ ${ZICHT_FUZZ_JOBS:-1} -gt 1 ]]; then
    parallel=(-fork="$ZICHT_FUZZ_JOBS")
fi
failed=()
for target in "${targets[@]}"; do
    echo "== fuzzing $target for ${seconds}s"
    mkdir -p "corpus/$target" "regressions/$target"
    if ! cargo fuzz run -s "$sanitizer" "$target" "corpus/$target" "regressions/$target" -- \
        -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 "${parallel[@]}"; then
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/;" \
        "copy them to fuzz/regressions/<target>/)" >&2
    exit 1
fi
echo "fuzz.sh: no crash in ${#targets[@]} targets, ${seconds}s each"
