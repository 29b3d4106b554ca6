#!/usr/bin/env bash
# A sweep as a 4-task Slurm job array on a real single-node Slurm, merged, equals the same sweep
# run locally (wall times excluded). Slurm and MUNGE are Debian's (slurm-wlm 22.05, munge),
# started here by hand on 127.0.0.1 from a private folder: no systemd, no cgroups
# (proctrack/linuxproc, task/none), no root-owned state outside the folder, ports 16817/16818.
#   scripts/slurm-test.sh [GRADSCOPE_BINARY]
# About 30 s when the packages are installed (sbatch --wait polls every 10 s).
set -euo pipefail
GRADSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$GRADSCOPE_ROOT/scripts/env.sh"
BIN="${1:-$CARGO_TARGET_DIR/release/gradscope}"
SWEEP="$GRADSCOPE_ROOT/tests/fixtures/sweep-tiny.json"
say() { echo "[slurm-test] $*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi

D="$(mktemp -d /tmp/gradscope-slurm.XXXXXX)"
export SLURM_CONF="$D/slurm.conf"
cleanup() {
  scontrol shutdown >/dev/null 2>&1 || true
  [ -f "$D/slurmd.pid" ] && kill "$(cat "$D/slurmd.pid")" 2>/dev/null || true
  [ -f "$D/slurmctld.pid" ] && kill "$(cat "$D/slurmctld.pid")" 2>/dev/null || true
  munged -s --socket="$D/munge/munge.sock" >/dev/null 2>&1 || true
  sleep 0.5
  rm -rf "$D"
}
trap cleanup EXIT
mkdir -p "$D"/{munge,state,spool,log}
chmod 755 "$D" "$D/munge"
dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$D/munge/munge.key"
# -f: run as root and accept a key outside /etc/munge.
munged -f --key-file="$D/munge/munge.key" --socket="$D/munge/munge.sock" \
  --log-file="$D/log/munged.log" --pid-file="$D/munge/munged.pid" --seed-file="$D/munge/munged.seed"

cat > "$SLURM_CONF" <<CONF
ClusterName=gradscope-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=$(id -un)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=gradscope-node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=gradscope-node Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -i
slurmd -N gradscope-node
for _ in $(seq 60); do sinfo -h -o %t 2>/dev/null | grep -qx idle && break; sleep 0.5; done
sinfo -h -o %t | grep -qx idle || { say "the node did not come up"; cat "$D"/log/*.log >&2; exit 1; }

started=$(date +%s)
cd "$D"
"$BIN" sweep "$SWEEP" --jobs 2 --out "$D/local.jsonl" >/dev/null 2>"$D/local.err" || { cat "$D/local.err" >&2; exit 1; }
# Site options as #SBATCH lines (sbatch refuses the script if it cannot parse them), and each
# point's curve written by the tasks.
"$BIN" sweep "$SWEEP" --emit slurm --tasks 4 --out-dir "$D/shards" --curves "$D/curves" \
  --sbatch '--time=10 --comment=gradscope-test' > "$D/job.sh"
grep -qx '#SBATCH --time=10' "$D/job.sh" || { say "no #SBATCH --time line"; cat "$D/job.sh" >&2; exit 1; }
say "sbatch: $(grep -c '^#SBATCH' "$D/job.sh") #SBATCH lines, array $(sed -n 's/^#SBATCH --array=//p' "$D/job.sh")"
timeout 300 sbatch --wait "$D/job.sh" >/dev/null || { say "the job array failed"; cat "$D"/shards/*.log "$D"/log/slurmd.log >&2; exit 1; }
ls "$D"/shards/*.jsonl >/dev/null
[ "$(ls "$D"/curves/*.jsonl | wc -l)" -eq 8 ] || { say "expected 8 curves in $D/curves"; ls -l "$D/curves" >&2; exit 1; }
"$BIN" sweep merge "$D"/shards/*.jsonl --out "$D/merged.jsonl" >/dev/null 2>&1
python3 - "$D/local.jsonl" "$D/merged.jsonl" <<'PY'
import json, sys
def load(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        r.pop("wall_s")
        rows[r["index"]] = r
    return rows
local, merged = load(sys.argv[1]), load(sys.argv[2])
assert len(local) == 8, f"local sweep: {len(local)} points"
assert sorted(merged) == sorted(local), f"the job array gave points {sorted(merged)}"
for i in local:
    assert merged[i] == local[i], f"point {i} differs:\n{local[i]}\n{merged[i]}"
print("[slurm-test] 8 points: a 4-task Slurm job array, merged, equals the local sweep; 8 curves", file=sys.stderr)
PY

# SIGTERM before the time limit (here sent by hand, as --signal=B:TERM@300 sends it): the task
# checkpoints its two points in flight, requeues itself and resumes them inside the point; its
# results and curves equal an uninterrupted local run's (wall times aside).
RQ="$D/requeue.json"
cat > "$RQ" <<'JSON'
{"base": {"grokking": {"task": {"p": 11}, "model": {"mlp": {"width": 32}}, "training": {"steps": 150000, "eval_every": 5000}}},
 "axes": {"grokking.seed": [0, 1]}}
JSON
"$BIN" sweep "$RQ" --jobs 2 --out "$D/rq-local.jsonl" --curves "$D/rq-local-curves" >/dev/null 2>"$D/rq-local.err" \
  || { cat "$D/rq-local.err" >&2; exit 1; }
"$BIN" sweep "$RQ" --emit slurm --tasks 1 --jobs 2 --out-dir "$D/rq-shards" --curves "$D/rq-curves" > "$D/rq.sh"
job=$(sbatch --parsable "$D/rq.sh")
for _ in $(seq 150); do [ "$(squeue -h -j "$job" -o %t 2>/dev/null)" = R ] && break; sleep 0.2; done
sleep 4 # both points well past their first evaluations, far from their ends (≈10 s each)
scancel --batch --signal=TERM "$job"
rq_started=$(date +%s)
# Slurm makes a requeued job wait about two minutes (its begin time) before it may start again;
# the test moves that to now once the task is back in the queue, and a second and a half later:
# slurmd revokes the job's credential when the first run ends and refuses ("Job credential
# revoked") a relaunch within the same second, which ends the job for good (seen in CI; polling
# at 20 ms reproduces it 3 times in 4). A begin time in the future would wait for the next
# scheduling pass instead (up to a minute); the update to now schedules at once.
# Done means both results written and the job gone: squeue can show nothing for a moment while
# the task is being requeued.
released=false
for _ in $(seq 600); do
  state=$(squeue -h -j "$job" -o %t 2>/dev/null || true)
  lines=$(cat "$D"/rq-shards/*.jsonl 2>/dev/null | wc -l)
  [ -z "$state" ] && [ "$lines" -ge 2 ] && break
  if ! $released && [ "$state" = PD ] && grep -qs requeueing "$D"/rq-shards/*.log; then
    sleep 1.5
    scontrol update JobId="${job}_0" StartTime=now >/dev/null && released=true
  fi
  sleep 0.5
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && [ "$(cat "$D"/rq-shards/*.jsonl 2>/dev/null | wc -l)" -ge 2 ] \
  || { say "the requeued task did not finish"; squeue -j "$job" >&2; cat "$D"/rq-shards/*.log >&2
       grep -E "JobId=${job}[_( ]|JobId=${job}\$|job ${job}\b" "$D"/log/slurmctld.log "$D"/log/slurmd.log >&2; exit 1; }
log=$(cat "$D"/rq-shards/*.log)
for said in "checkpointed at step" "requeueing" "resumed from step"; do
  n=$(grep -c -- "$said" <<<"$log" || true)
  want=2; [ "$said" = requeueing ] && want=1
  [ "$n" -eq "$want" ] || { say "expected $want × '$said' in the task's log"; echo "$log" >&2; exit 1; }
done
python3 - "$D/rq-local.jsonl" "$D"/rq-shards/*.jsonl "$D/rq-local-curves" "$D/rq-curves" <<'PY'
import json, os, sys
local, task, local_curves, task_curves = sys.argv[1:]
def results(path):
    rows = {}
    for line in open(path):
        r = json.loads(line); r.pop("wall_s"); rows[r["index"]] = r
    return rows
a, b = results(local), results(task)
assert len(a) == 2 and a == b, f"results differ:\n{a}\n{b}"
def curve(path):
    out = []
    for line in open(path):
        r = json.loads(line); r.pop("wall_ms", None); out.append(r)
    return out
names = sorted(os.listdir(local_curves))
assert names == sorted(os.listdir(task_curves)) and len(names) == 2, names
for n in names:
    assert curve(f"{local_curves}/{n}") == curve(f"{task_curves}/{n}"), f"curve {n} differs"
print("[slurm-test] SIGTERM: 2 points checkpointed, the task requeued itself and resumed them; results and curves equal the uninterrupted run", file=sys.stderr)
PY
say "requeue: the task finished $(( $(date +%s) - rq_started )) s after SIGTERM"
say "took $(( $(date +%s) - started )) s after Slurm started"
