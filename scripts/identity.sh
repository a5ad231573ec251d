#!/usr/bin/env bash
# Byte-identity of encode and link outputs between two zicht binaries (a
# refactor must change no byte): synth registries at seeds 1-3, error
# scale 1 and 2, 8% duplicates, heterogeneity 1; encoded and linked at 1
# and 2 threads; every file but summary.json (timings) compared.
set -u
export SOURCE_DATE_EPOCH=1
OLD=${1:?usage: scripts/identity.sh OLD_ZICHT NEW_ZICHT [WORKDIR]}; NEW=${2:?usage: scripts/identity.sh OLD_ZICHT NEW_ZICHT [WORKDIR]}
work=${3:-$(mktemp -d)}
"$NEW" keygen --out "$work/k.key" --force >/dev/null 2>&1 || "$NEW" keygen --out "$work/k.key" >/dev/null
KEY=$work/k.key
for spec in "1 1" "2 1" "3 1" "1 2" "2 2" "3 2"; do
  set -- $spec; seed=$1; scale=$2
  d=$work/id-$seed-$scale; rm -rf $d; mkdir -p $d
  $OLD synth --out-dir $d/s --seed $seed --error-scale $scale --duplicate-rate 0.08 --heterogeneity 1 --population 20000 >/dev/null 2>&1 || { echo "synth failed $spec"; continue; }
  for b in OLD NEW; do
    bin=${!b}
    for t in 1 2; do
      mkdir -p $d/$b-$t
      for csv in $d/s/*.csv; do
        f=$(basename $csv .csv); [ -f $d/s/profiles/$f.toml ] || continue
        $bin encode $csv --schema $d/s/schema.toml --profile $d/s/profiles/$f.toml --secret-file $KEY --out $d/$b-$t/$f.zbf --threads $t >/dev/null 2>&1 || echo "encode failed $b $f"
      done
      $bin link $d/$b-$t/*.zbf --threshold 0.8 --out-dir $d/$b-$t/link --threads $t >/dev/null 2>&1 || echo "link failed $b"
    done
  done
  diffs=0
  for t in 1 2; do for f in $(cd $d/OLD-1 && find . -type f ! -name summary.json); do cmp -s $d/OLD-1/$f $d/NEW-$t/$f || { echo "differs: seed $seed scale $scale threads $t $f"; diffs=1; }; done; done
  n=$(ls $d/OLD-1/*.zbf | wc -l); rows=$(cat $d/s/*.csv | wc -l)
  echo "seed $seed error-scale $scale: $n registries, $rows csv lines, outputs identical at 1 and 2 threads: $([ $diffs = 0 ] && echo yes || echo NO)"
done
