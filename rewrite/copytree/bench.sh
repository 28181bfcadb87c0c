#!/usr/bin/env bash
# bench.sh [FILES [BYTES [RUNS]]]: 'sparkckpt cp' against what a user would run
# instead, side by side in one run, on a synthetic Structured Streaming tree
# (fixtures/structgen; defaults 25,000 files, 1 GB, 3 runs), warm page cache:
#   local -> local   cp -r, cp -r + sync -f (the durability cp -r lacks), sparkckpt cp
#   local -> HDFS    hdfs dfs -put -t 4 vs sparkckpt cp     (only with BENCH_NN)
#   HDFS -> local    hdfs dfs -get vs sparkckpt cp          (only with BENCH_NN)
# Reports the median of each, the ratio to the baseline and sparkckpt's peak RSS.
# For the HDFS rows set BENCH_NN=hdfs://127.0.0.1:PORT (a real namenode, e.g. the
# MiniDFSCluster of fixtures/minihdfs) and BENCH_HADOOP_CP to a classpath holding
# org.apache.hadoop.fs.FsShell (hadoop-client-api/-runtime jars); FsShell skips
# .crc sidecars, and so does cp going to HDFS, so both move the same files.
set -euo pipefail
FILES=${1:-25000}; BYTES=${2:-1e9}; RUNS=${3:-3}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/sparkckpt" ./cmd/sparkckpt
go build -o "$tmp/structgen" ./fixtures/structgen
"$tmp/structgen" -out "$tmp/src" -files "$FILES" -bytes "$BYTES" -partitions 200 >/dev/null
echo "tree: $(find "$tmp/src" -type f | wc -l) files, $(du -sb "$tmp/src" | cut -f1) bytes; $(nproc) cores; $(uname -r)"
find "$tmp/src" -type f -print0 | xargs -0 cat >/dev/null
now() { date +%s.%N; }
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timed NAME CMD...: runs CMD once, appends its seconds to $tmp/NAME.t
timed() { local n=$1; shift; local s e; s=$(now); "$@"; e=$(now); echo "$e - $s" | bc >> "$tmp/$n.t"; }
rss() { /usr/bin/time -f %M -a -o "$tmp/rss" "$@"; }
fsshell() { HADOOP_USER_NAME=${HADOOP_USER_NAME:-$USER} java -cp "$tmp/conf:$BENCH_HADOOP_CP" org.apache.hadoop.fs.FsShell "$@" 2>>"$tmp/fsshell.log"; }
if [ -n "${BENCH_NN:-}" ]; then
  mkdir -p "$tmp/conf"
  printf '<?xml version="1.0"?><configuration><property><name>fs.defaultFS</name><value>%s</value></property></configuration>\n' "$BENCH_NN" > "$tmp/conf/core-site.xml"
  echo '<?xml version="1.0"?><configuration></configuration>' > "$tmp/conf/hdfs-site.xml"
  export HADOOP_USER_NAME=${HADOOP_USER_NAME:-$(id -un)}
fi
for i in $(seq "$RUNS"); do
  timed cpr cp -r "$tmp/src" "$tmp/cpr$i"; rm -rf "$tmp/cpr$i"
  timed cprsync sh -c "cp -r '$tmp/src' '$tmp/cps$i' && sync -f '$tmp/cps$i'"; rm -rf "$tmp/cps$i"
  timed ll rss "$tmp/sparkckpt" cp "$tmp/src" "$tmp/ll$i" >/dev/null; rm -rf "$tmp/ll$i"
  if [ -n "${BENCH_NN:-}" ]; then
    b=/sparkckpt-bench-$$-$i
    timed put fsshell -put -t 4 "$tmp/src" "$b-put"
    timed lh rss "$tmp/sparkckpt" cp "$tmp/src" "$BENCH_NN$b-cp" >/dev/null
    timed get fsshell -get "$b-put" "$tmp/get$i"; rm -rf "$tmp/get$i"
    timed hl rss "$tmp/sparkckpt" cp "$BENCH_NN$b-cp" "$tmp/hl$i" >/dev/null; rm -rf "$tmp/hl$i"
    fsshell -rm -r -skipTrash "$b-put" "$b-cp" >/dev/null
  fi
done
row() { local base; base=$(med < "$tmp/$2.t"); local v; v=$(med < "$tmp/$3.t"); printf '%-16s %-26s %8.2fs   sparkckpt cp %8.2fs   ratio %5.2fx\n' "$1" "$4" "$base" "$v" "$(echo "scale=3; $v / $base" | bc)"; }
echo "medians of $RUNS runs:"
row "local -> local" cpr ll "cp -r"
row "local -> local" cprsync ll "cp -r && sync -f"
if [ -n "${BENCH_NN:-}" ]; then
  row "local -> HDFS" put lh "hdfs dfs -put -t 4"
  row "HDFS -> local" get hl "hdfs dfs -get"
fi
echo "sparkckpt cp peak RSS: $(sort -n "$tmp/rss" | tail -1) KB (max over runs)"
