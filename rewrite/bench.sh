#!/usr/bin/env bash
# Whole-directory benchmark: 'sparkckpt rewrite --apply' vs 'cp -r' on the same trees,
# side by side. Usage: rewrite/bench.sh [RUNS] [TREE...]
# Default trees: a synthetic tree shaped like the backups teams restore (the generated
# hdfs-app checkpoint plus $SYNTH_FILES RDD part files, $SYNTH_MB MiB in all; defaults
# 2500 files / 100 MiB, set SYNTH_FILES=25000 SYNTH_MB=1024 for the full-size case),
# every real DStream tree in ../shared/fixtures-real, and the generated hdfs-app tree.
# Each rewrite run works on a fresh copy (the copy is not timed); the mapping moves the
# tree's checkpointDir to an hdfs:// URI.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}; shift || true
bin=$(mktemp -d)/sparkckpt
go build -o "$bin" ./cmd/sparkckpt
synth=$(mktemp -d)/synthetic
trap 'rm -rf "$(dirname "$synth")"' EXIT
if [ $# -eq 0 ]; then
  files=${SYNTH_FILES:-2500}; mb=${SYNTH_MB:-100}
  cp -r fixtures/generated/dstream/hdfs-app "$synth"
  per=$(( mb * 1024 / files ))
  for i in $(seq 0 $((files - 1))); do
    d="$synth/3f0c2a9e-5b7d-4c1e-9a2f-6d8e1b4c7a90/rdd-$((i / 200))"
    [ -d "$d" ] || mkdir -p "$d"
    head -c "${per}K" /dev/urandom > "$d/part-$(printf %05d $((i % 200)))"
  done
  set -- "$synth" fixtures/generated/dstream/hdfs-app
  if [ -d ../shared/fixtures-real ]; then
    while read -r d; do set -- "$@" "$d"; done < <(find ../shared/fixtures-real -name 'checkpoint-[0-9]*' ! -name '*.crc' -printf '%h\n' | sort -u | grep -v structured-streaming)
  fi
fi
ns() { date +%s%N; }
printf '%-70s %8s %6s %10s %10s %6s\n' tree files KiB cp-ms rewrite-ms ratio
for tree in "$@"; do
  from=$("$bin" inspect --json "$tree" | sed -n 's/.*"checkpointDir": "\([^"]*\)".*/\1/p' | head -1)
  files=$(find "$tree" -type f | wc -l); kib=$(du -sk "$tree" | cut -f1)
  work=$(mktemp -d); cpt=0; rwt=0
  for i in $(seq "$runs"); do
    t0=$(ns); cp -r "$tree" "$work/cp$i"; t1=$(ns); cpt=$((cpt + t1 - t0))
    cp -r "$tree" "$work/rw$i"
    t0=$(ns); "$bin" rewrite "$work/rw$i" --from "$from" --to hdfs://bench-nn:8020/relocated --apply --backup-dir "$work/bak$i" >/dev/null; t1=$(ns)
    rwt=$((rwt + t1 - t0))
  done
  rm -rf "$work"
  awk -v t="$tree" -v f="$files" -v k="$kib" -v c="$cpt" -v r="$rwt" -v n="$runs" \
    'BEGIN { printf "%-70s %8d %6d %10.1f %10.1f %6.2f\n", substr(t, length(t) > 70 ? length(t)-69 : 1), f, k, c/n/1e6, r/n/1e6, r/c }'
done
