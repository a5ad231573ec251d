#!/usr/bin/env bash
# Linkage quality on synthetic registries: for each error scale, synthesise
# the default registries, encode them, link at thresholds 0.70 to 0.95 and
# score the result against the truth. Prints Markdown tables (docs/quality.md).
#
# usage: scripts/quality.sh [SEED] [POPULATION]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-2026}
population=${2:-10000}
cargo build --release --quiet
zicht=target/release/zicht
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$zicht keygen --out "$work/key" 2>/dev/null

for scale in 1 2; do
  data="$work/synth-$scale"
  $zicht synth --out-dir "$data" --seed "$seed" --population "$population" --error-scale "$scale" >/dev/null
  labels=$(ls "$data"/profiles | sed 's/\.toml$//')
  inputs=()
  for label in $labels; do
    $zicht encode "$data/$label.csv" --schema "$data/schema.toml" --profile "$data/profiles/$label.toml" \
      --secret-file "$work/key" --out "$work/$scale-$label.zbf" 2>/dev/null
    inputs+=("$work/$scale-$label.zbf")
  done
  echo
  echo "### error scale $scale (seed $seed, population $population)"
  echo
  echo "| threshold | precision | recall | F1 | B-cubed F1 | clusters / true people | N̂ linked (95% CI) | N̂ true table (95% CI) | difference | true N |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for t in 0.70 0.75 0.80 0.85 0.90 0.95; do
    out="$work/link-$scale-$t"
    $zicht link "${inputs[@]}" --threshold "$t" --out-dir "$out" >/dev/null
    $zicht eval --truth "$data/truth.csv" --clusters "$out/clusters.csv" \
      --truth-capture "$data/truth_capture.csv" --capture "$out/capture.csv" --json > "$out/eval.json" || true
    python3 - "$out/eval.json" "$t" "$population" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); t = sys.argv[2]; n = int(sys.argv[3])
p = e["pairwise"]; b = e["bcubed"]; est = e.get("estimates") or {}
def fmt(x):
    if not x or x.get("estimate") is None: return "no estimate"
    hi = x.get("ci_high")
    return f'{x["estimate"]:,.0f} ({x["ci_low"]:,.0f}–{hi:,.0f})' if hi is not None else f'{x["estimate"]:,.0f}'
lk, tr = est.get("linked"), est.get("truth")
diff = f'{(lk["estimate"] - tr["estimate"]) / tr["estimate"] * 100:+.1f}%' if lk and tr else "–"
print(f'| {t} | {p["precision"]:.3f} | {p["recall"]:.3f} | {p["f1"]:.3f} | {b["f1"]:.3f} | {e["clusters"]:,} / {e["true_persons"]:,} | {fmt(lk)} | {fmt(tr)} | {diff} | {n:,} |')
PY
  done
done
