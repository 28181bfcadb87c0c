#!/usr/bin/env bash
# bench.sh [FILES BYTES PARTITIONS [RUNS]]: 'sparkckpt check' and 'sparkckpt cp' of a
# synthetic Structured Streaming checkpoint on S3 against 'aws s3 cp --recursive' of the
# same tree (Debian's awscli), side by side against the same server: a versitygw on
# 127.0.0.1 (store/s3/s3test's server) and, for cp S3 -> HDFS, the in-process test
# namenode/datanode. Reports the median of RUNS alternating runs and the ratios (the
# issue's goals: check <= 1.5x and cp S3 -> HDFS <= 1x the aws download).
# Defaults: 25,000 files, 250 MB, 200 partitions, 3 runs. Everything lives in a temp
# dir, removed at exit, with the servers stopped.
set -euo pipefail
FILES=${1:-25000}
BYTES=${2:-250e6}
PARTS=${3:-200}
RUNS=${4:-3}
cd "$(dirname "$0")/../.."
command -v aws >/dev/null || { echo "needs the AWS CLI (apt-get install awscli)" >&2; exit 2; }
VGW=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
[ -x "$VGW" ] || { echo "needs versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)" >&2; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/sparkckpt" ./cmd/sparkckpt
go build -o "$tmp/structgen" ./fixtures/structgen
go build -o "$tmp/hdfs-testserver" ./store/hdfs/hdfstest/cmd/hdfs-testserver
"$tmp/structgen" -out "$tmp/ckpt" -files "$FILES" -bytes "$BYTES" -partitions "$PARTS" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/s3root/bench"
ROOT_ACCESS_KEY=bench ROOT_SECRET_KEY=bench-secret "$VGW" --port "127.0.0.1:$port" --quiet posix "$tmp/s3root" >"$tmp/vgw.log" 2>&1 &
pids+=($!)
"$tmp/hdfs-testserver" --addr 127.0.0.1:0 >"$tmp/hdfs.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/hdfs.out" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
HDFS=$(head -1 "$tmp/hdfs.out")
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port" AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export HADOOP_USER_NAME=bench HADOOP_CONF_DIR=

src=s3a://bench/ckpt
"$tmp/sparkckpt" cp "$tmp/ckpt" "$src" >/dev/null
echo "tree on S3: $(aws s3 ls --recursive s3://bench/ckpt/ | wc -l) objects, $(aws s3 ls --recursive --summarize s3://bench/ckpt/ | sed -n 's/.*Total Size: //p') bytes"

now() { date +%s.%N; }
: >"$tmp/aws.t"; : >"$tmp/check.t"; : >"$tmp/cph.t"; : >"$tmp/cpl.t"
for i in $(seq "$RUNS"); do
  s=$(now); aws s3 cp --recursive --quiet s3://bench/ckpt "$tmp/aws$i"; e=$(now); echo "$e - $s" | bc >>"$tmp/aws.t"; rm -rf "$tmp/aws$i"
  s=$(now); /usr/bin/time -f %M -o "$tmp/rss" "$tmp/sparkckpt" check "$src" --expect-fs s3a://bench >"$tmp/check.out" || true; e=$(now)
  echo "$e - $s" | bc >>"$tmp/check.t"
  s=$(now); "$tmp/sparkckpt" cp --parallel 10 "$src" "$HDFS/run$i" >/dev/null; e=$(now); echo "$e - $s" | bc >>"$tmp/cph.t"
  s=$(now); "$tmp/sparkckpt" cp --parallel 10 "$src" "$tmp/local$i" >/dev/null; e=$(now); echo "$e - $s" | bc >>"$tmp/cpl.t"; rm -rf "$tmp/local$i"
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(med "$tmp/aws.t"); k=$(med "$tmp/check.t"); h=$(med "$tmp/cph.t"); l=$(med "$tmp/cpl.t")
head -1 "$tmp/check.out"
printf '%-42s %8ss\n' "aws s3 cp --recursive (download)" "$a"
printf '%-42s %8ss  %sx  (peak RSS %s KB)\n' "sparkckpt check" "$k" "$(echo "scale=2; $k / $a" | bc)" "$(cat "$tmp/rss")"
printf '%-42s %8ss  %sx\n' "sparkckpt cp S3 -> HDFS (--parallel 10)" "$h" "$(echo "scale=2; $h / $a" | bc)"
printf '%-42s %8ss  %sx\n' "sparkckpt cp S3 -> local (--parallel 10)" "$l" "$(echo "scale=2; $l / $a" | bc)"
echo "median of $RUNS runs"
