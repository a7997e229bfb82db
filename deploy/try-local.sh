#!/usr/bin/env bash
# The image and a K = 8 run in containers on this machine, with no image registry: the base image is
# built from Debian packages (debootstrap) with this machine's Node, the image with deploy/Dockerfile,
# then the orchestrator and two learner hosts (--learner-ids auto:4) run on a podman network, and the
# result is compared with the same run on the host. Last, `podman kube play` is tried on deploy/k8s.
# Run as root from anywhere: bash deploy/try-local.sh   (MEL_TRY_CLEAN=1 removes the images at the end)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${MEL_TRY_DIR:-/var/tmp/mel-try-local}
BASE_IMAGE=localhost/mel-base:bookworm
IMAGE=localhost/mel:try
NET=mel-try
PODMAN=(podman --runtime /usr/sbin/runc)
# runc may not raise these limits here (podman's defaults are higher than this machine allows).
LIMITS=(--ulimit nofile=16384:16384 --ulimit nproc=4096:4096)
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
RUN_FLAGS=(--K=8 --T=12 --cycles=2 --train-samples=3000 --test-samples=500 --no-report)

step() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Waits until the container's log has a line matching $2 (or it exited); prints the seconds taken.
wait_log() {
  local start=$3
  for _ in $(seq 1 600); do
    if "${PODMAN[@]}" logs "$1" 2>&1 | grep -q -- "$2"; then since "$start"; return 0; fi
    sleep 0.2
  done
  echo "timed out waiting for '$2' in $1" >&2
  return 1
}

cleanup() {
  "${PODMAN[@]}" rm -f -v -t 2 mel-try-orch mel-try-learner-1 mel-try-learner-2 >/dev/null 2>&1 || true
  "${PODMAN[@]}" network rm -f "$NET" >/dev/null 2>&1 || true
  "${PODMAN[@]}" kube down "$WORK/kube.yaml" >/dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f mel-runs >/dev/null 2>&1 || true
  "${PODMAN[@]}" secret rm mel-token >/dev/null 2>&1 || true # kube play makes it from the Secret; kube down leaves it
  "${PODMAN[@]}" network rm -f podman-default-kube-network >/dev/null 2>&1 || true
  if [ "${MEL_TRY_CLEAN:-0}" = 1 ]; then "${PODMAN[@]}" rmi -f "$IMAGE" "$BASE_IMAGE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

step "tools"
missing=()
for tool in debootstrap podman; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -x /usr/sbin/runc ] || missing+=(runc)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
podman --version
mkdir -p "$WORK"

step "base image $BASE_IMAGE: debootstrap --variant=minbase bookworm + this machine's node $(node --version)"
if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  start=$(now)
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" >"$WORK/debootstrap.log" 2>&1
  install -m 0755 "$(command -v node)" "$WORK/rootfs/usr/local/bin/node"
  mkdir -p "$WORK/rootfs/usr/local/lib/node_modules"
  cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$WORK/rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$WORK/rootfs/usr/local/bin/npm"
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  tar -C "$WORK/rootfs" -c . | "${PODMAN[@]}" import - "$BASE_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
  echo "base built in $(since "$start") s"
fi
"${PODMAN[@]}" run --rm "${LIMITS[@]}" "$BASE_IMAGE" node --version

step "this machine's CA certificates in the base (the npm registry may be reached through a proxy that re-signs TLS)"
if ! "${PODMAN[@]}" image inspect --format '{{.Config.Env}}' "$BASE_IMAGE" | grep -q NODE_EXTRA_CA_CERTS; then
  "${PODMAN[@]}" rm -f mel-try-ca >/dev/null 2>&1 || true
  "${PODMAN[@]}" run "${LIMITS[@]}" --name mel-try-ca -v /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro "$BASE_IMAGE" \
    sh -c 'mkdir -p /etc/ssl/certs && cp /host-ca.crt /etc/ssl/certs/ca-certificates.crt'
  "${PODMAN[@]}" commit --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' mel-try-ca "$BASE_IMAGE" >/dev/null
  "${PODMAN[@]}" rm mel-try-ca >/dev/null
fi
echo "NODE_EXTRA_CA_CERTS set in $BASE_IMAGE"

step "image $IMAGE: podman build --build-arg BASE=$BASE_IMAGE -f deploy/Dockerfile"
start=$(now)
# --network host: npm ci reaches the npm registry as this machine does.
"${PODMAN[@]}" build "${LIMITS[@]}" --format docker --network host --build-arg "BASE=$BASE_IMAGE" -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 ||
  { tail -30 "$WORK/build.log"; exit 1; }
echo "built in $(since "$start") s; size $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')" \
  "(base $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
"${PODMAN[@]}" run --rm "${LIMITS[@]}" --entrypoint id "$IMAGE"

step "K = 8: the orchestrator and two learner hosts (auto:4) on the podman network $NET"
rm -rf "$WORK/runs" && mkdir -p "$WORK/runs" && chown 10001:10001 "$WORK/runs"
"${PODMAN[@]}" network rm -f "$NET" >/dev/null 2>&1 || true
"${PODMAN[@]}" network create "$NET" >/dev/null
start=$(now)
"${PODMAN[@]}" run -d "${LIMITS[@]}" --name mel-try-orch --network "$NET" -e MEL_TOKEN="$TOKEN" -e MEL_PORT=8765 -v "$WORK/runs:/runs" \
  "$IMAGE" experiment "${RUN_FLAGS[@]}" --external --host=0.0.0.0 --port=8765 --out=/runs/k8 >/dev/null
echo "orchestrator listening after $(wait_log mel-try-orch 'waiting for 8 learners' "$start") s"
ORCH_IP=$("${PODMAN[@]}" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" mel-try-orch)
start=$(now)
for i in 1 2; do
  "${PODMAN[@]}" run -d "${LIMITS[@]}" --name "mel-try-learner-$i" --network "$NET" -e MEL_TOKEN="$TOKEN" \
    "$IMAGE" learner "--connect=ws://$ORCH_IP:8765" --learner-ids=auto:4 --retry-s=120 >/dev/null
done
echo "all 8 learners joined after $(wait_log mel-try-orch 'set-up took' "$start") s"
"${PODMAN[@]}" stats --no-stream --format '{{.Name}} {{.MemUsage}}' mel-try-orch mel-try-learner-1 mel-try-learner-2 || true
echo "health check of the orchestrator: $("${PODMAN[@]}" healthcheck run mel-try-orch >/dev/null 2>&1 && echo healthy || echo "not healthy")"
code=$("${PODMAN[@]}" wait mel-try-orch)
echo "orchestrator exited $code after $(since "$start") s; learner hosts: $("${PODMAN[@]}" wait mel-try-learner-1 mel-try-learner-2 | tr '\n' ' ')"
"${PODMAN[@]}" logs mel-try-orch 2>&1 | grep -E 'claimed|cycle +[0-9]+/|^wall' || true
for i in 1 2; do "${PODMAN[@]}" logs "mel-try-learner-$i" 2>&1 | grep -E 'granted' || true; done

step "the same run on this machine (spawned learners): cycles.csv columns 1-8 and learners.csv must be equal"
rm -rf "$WORK/host-run"   # a run folder left by an earlier try would refuse the new run
(cd "$ROOT" && npm run -s experiment -- "${RUN_FLAGS[@]}" --out "$WORK/host-run" >"$WORK/host-run.log" 2>&1) ||
  { tail -20 "$WORK/host-run.log"; exit 1; }
if diff <(cut -d, -f1-8 "$WORK/runs/k8/cycles.csv") <(cut -d, -f1-8 "$WORK/host-run/cycles.csv") >/dev/null &&
  diff "$WORK/runs/k8/learners.csv" "$WORK/host-run/learners.csv" >/dev/null; then
  echo "EQUAL: the containers' run gives the host's results"
else
  echo "DIFFERENT: see $WORK/runs/k8 and $WORK/host-run"
  exit 1
fi

step "podman kube play deploy/k8s (a small K so it could finish here)"
# The manifests as written, with K = 8 and two hosts of auto:4, the local image and a token.
sed -e 's/--K=1000/--K=8/; s/--cycles=2/--cycles=1/; s/--tau-max=5/--train-samples=3000/; s/auto:250/auto:4/; s/parallelism: 4/parallelism: 2/; s/completions: 4/completions: 2/' \
  -e "s|image: mel:latest|image: $IMAGE|; s/token: change-me/token: $TOKEN/" \
  "$ROOT/deploy/k8s/secret.example.yaml" <(echo ---) "$ROOT/deploy/k8s/orchestrator.yaml" <(echo ---) "$ROOT/deploy/k8s/learners.yaml" >"$WORK/kube.yaml"
# kube play takes no --ulimit: the same limits as containers.conf defaults.
printf '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]\n' >"$WORK/containers.conf"
if CONTAINERS_CONF="$WORK/containers.conf" "${PODMAN[@]}" kube play "$WORK/kube.yaml" >"$WORK/kube.log" 2>&1; then
  # Kinds this podman does not play are skipped without an error: say what it made.
  echo "podman kube play made:"; cat "$WORK/kube.log"
  echo "pods: $("${PODMAN[@]}" pod ps --format '{{.Name}}' | tr '\n' ' ')"
  echo "secrets (not in kube play's output): $("${PODMAN[@]}" secret ls --format '{{.Name}}' | tr '\n' ' ')"
else
  echo "podman kube play refused the manifests:"; cat "$WORK/kube.log"
fi
