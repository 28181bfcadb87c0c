#!/usr/bin/env bash
# bench.sh [FILES BYTES PARTITIONS]: 'sparkckpt backup' of a synthetic Structured Streaming
# checkpoint (fixtures/structgen) from HDFS (the test namenode/datanode) to S3 (versitygw on
# 127.0.0.1, store/s3/s3test's server) against 'aws s3 cp --recursive' of the same tree from
# the local disk to the same server, side by side in one run; then a second backup of the
# unchanged tree (incremental: every file read and checksummed, none uploaded: server-side
# copies), and the default cut against --all. Peak RSS of each backup is printed.
# Defaults: 25,000 files, 250 MB, 200 partitions. Everything lives in a temp dir, removed
# at exit, with the servers stopped.
set -euo pipefail
FILES=${1:-25000}
BYTES=${2:-250e6}
PARTS=${3:-200}
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

src="$HDFS/ckpt"
"$tmp/sparkckpt" cp --parallel 10 "$tmp/ckpt" "$src" >/dev/null
echo "tree: $(find "$tmp/ckpt" -type f | wc -l) files, $(du -sb "$tmp/ckpt" | cut -f1) bytes (local copy; on HDFS without .crc sidecars)"
now() { date +%s.%N; }
t() { local out=$1 s e; shift; s=$(now); "$@" >"$out"; e=$(now); echo "$e - $s" | bc; }
a=$(t /dev/null aws s3 cp --recursive --quiet "$tmp/ckpt" s3://bench/aws)
full=$(t "$tmp/b1.json" /usr/bin/time -f %M -o "$tmp/rss1" "$tmp/sparkckpt" backup --parallel 10 --json "$src" s3://bench/backups)
sleep 1
incr=$(t "$tmp/b2.json" /usr/bin/time -f %M -o "$tmp/rss2" "$tmp/sparkckpt" backup --parallel 10 --json "$src" s3://bench/backups)
all=$(t "$tmp/b3.json" "$tmp/sparkckpt" backup --parallel 10 --all --json "$src" s3://bench/all)
field() { python3 -c "import json,sys; m=json.load(open('$1'))['manifest']; print(len(m['files']), m['bytes'], m['transferredBytes'], m['linkedFiles'])"; }
printf '%-52s %8ss\n' "aws s3 cp --recursive (local -> S3)" "$a"
printf '%-52s %8ss  %sx  files/bytes/sent/copied server-side: %s  peak RSS %s KB\n' "sparkckpt backup HDFS -> S3 (full, --parallel 10)" "$full" "$(echo "scale=2; $full / $a" | bc)" "$(field "$tmp/b1.json")" "$(cat "$tmp/rss1")"
printf '%-52s %8ss  %sx of full  %s  peak RSS %s KB\n' "sparkckpt backup again, nothing changed" "$incr" "$(echo "scale=2; $incr / $full" | bc)" "$(field "$tmp/b2.json")" "$(cat "$tmp/rss2")"
printf '%-52s %8ss  %s\n' "sparkckpt backup --all" "$all" "$(field "$tmp/b3.json")"
