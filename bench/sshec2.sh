#!/usr/bin/env bash
# Benchmark of sshec2 against what a user would otherwise run, on one moto server on loopback:
#   sshec2 --print web-7   vs  aws ec2 describe-instances --filters Name=tag:Name,Values=web-7
#                              --query 'Reservations[].Instances[].PublicIpAddress'
# with 200 other instances in the region. Prints medians (hyperfine) and the ratio, then the
# release binary's size. Target (issue): sshec2 at least 10x faster than the aws CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${OPSKIT_TEST_VENV:-/var/tmp/opskit-test-venv}
if ! command -v hyperfine >/dev/null; then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq hyperfine
fi
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ]; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'moto[server]==5.2.5' awscli==1.46.3
fi

start=$(date +%s)
cargo build --release --locked -q --bin sshec2
echo "release build of sshec2: $(($(date +%s) - start)) s (0 when already built)"
bin=$PWD/target/release
[ -d "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null' EXIT
for _ in $(seq 100); do
  (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done

export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
aws=$venv/bin/aws
"$aws" ec2 run-instances --image-id ami-12c6146b --count 200 --query 'length(Instances)' \
  --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=filler}]' >/dev/null
"$aws" ec2 run-instances --image-id ami-12c6146b --count 1 --query 'length(Instances)' \
  --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=web-7}]' >/dev/null

want=$("$aws" ec2 describe-instances --filters Name=tag:Name,Values=web-7 \
  --query 'Reservations[].Instances[].PublicIpAddress' --output text)
got=$("$bin/sshec2" --print web-7)
[ "$want" = "$got" ] || { echo "sshec2 printed $got, the aws CLI $want" >&2; exit 1; }
echo "both resolve web-7 to $got"

out=$(mktemp)
hyperfine -N --warmup 3 --runs 30 --export-json "$out" \
  -n 'sshec2 --print web-7' "$bin/sshec2 --print web-7" \
  -n 'aws ec2 describe-instances' "$aws ec2 describe-instances --filters Name=tag:Name,Values=web-7 --query Reservations[].Instances[].PublicIpAddress --output text"
python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, theirs = r[0]["median"], r[1]["median"]
print(f"median: sshec2 {ours*1000:.1f} ms, aws CLI {theirs*1000:.1f} ms: {theirs/ours:.1f}x faster (target >= 10x)")
EOF
rm -f "$out"
echo "release binary size: $(du -h "$bin/sshec2" | cut -f1) ($(stat -c %s "$bin/sshec2") bytes)"
