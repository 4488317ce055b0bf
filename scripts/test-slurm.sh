#!/usr/bin/env bash
# Single-node Slurm (slurmctld + slurmd + munge) on localhost, state in one directory.
# The project's copy of ../shared/recipes/slurm.sh; changed: DIR is made 0755 before munged starts,
# and SLURM_FAKE_GPUS=N gives the node N fake GPUs (see below).
# Needs root (slurmd runs jobs as the submitting user; munged runs as user munge).
# Idempotent: daemons already alive (by recorded pid) are left alone.
#
#   bash slurm.sh start DIR   # prints KEY=VALUE lines; export SLURM_CONF=... for sbatch & co
#   bash slurm.sh stop DIR    # stops slurmd, slurmctld, then munged (if we started it), by pid
#
# Env (optional): SLURM_CPUS (default 2), SLURM_PORT (slurmctld port, default 6817;
# slurmd uses SLURM_PORT+1), SLURM_PARTITION (default debug),
# SLURM_FAKE_GPUS (default 0): N fake GPUs as GRES gpu (device files DIR/fake-gpu<i>, character devices
# aliasing /dev/null), so that --gres=gpu:N is scheduled and CUDA_VISIBLE_DEVICES set as with real ones.
set -euo pipefail

cmd="${1:-}"; DIR="${2:-}"
if [ -z "$cmd" ] || [ -z "$DIR" ]; then echo "usage: $0 start|stop DIR" >&2; exit 2; fi
[ "$(id -u)" -eq 0 ] || { echo "slurm.sh needs root" >&2; exit 1; }
mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
chmod 755 "$DIR"   # munged (user munge) keeps its files in DIR/munge: DIR may come from mkdtemp (0700)

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() {  # stop_pidfile FILE: TERM, wait up to 10 s, then KILL
  if alive "$1"; then
    local pid; pid="$(cat "$1")"; kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  fi
  rm -f "$1"
}

if [ "$cmd" = stop ]; then
  stop_pidfile "$DIR/slurmd.pid"
  stop_pidfile "$DIR/slurmctld.pid"
  stop_pidfile "$DIR/munge/munged.pid"   # only exists if this script started munged
  exit 0
fi
[ "$cmd" = start ] || { echo "unknown command: $cmd" >&2; exit 2; }

CPUS="${SLURM_CPUS:-2}"; PORT="${SLURM_PORT:-6817}"; PART="${SLURM_PARTITION:-debug}"
FAKE_GPUS="${SLURM_FAKE_GPUS:-0}"
HOST="$(hostname -s)"

# --- install (only if missing) ---------------------------------------------------------
if [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] || ! command -v sbatch >/dev/null \
   || [ ! -x /usr/sbin/munged ]; then
  echo "installing slurmctld slurmd slurm-client munge (apt)..." >&2
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then   # keep apt from starting system daemons
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# --- munge -------------------------------------------------------------------------------
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 700 /etc/munge
    runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 755 /run/munge          # default socket dir (clients use it)
  install -d -o munge -g munge -m 700 "$DIR/munge"
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  runuser -u munge -- /usr/sbin/munged --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || { echo "munged not working" >&2; cat "$DIR/munge/munged.log" >&2; exit 1; }
fi

# --- config --------------------------------------------------------------------------------
mkdir -p "$DIR/ctld" "$DIR/spool" "$DIR/out"
NODE_GRES=""; : > "$DIR/gres.conf"
if [ "$FAKE_GPUS" -gt 0 ]; then
  for i in $(seq 0 $((FAKE_GPUS - 1))); do
    [ -e "$DIR/fake-gpu$i" ] || mknod "$DIR/fake-gpu$i" c 1 3   # slurmd wants character devices
    echo "Name=gpu File=$DIR/fake-gpu$i" >> "$DIR/gres.conf"
  done
  NODE_GRES=" Gres=gpu:$FAKE_GPUS"
fi
chmod 755 "$DIR"; chmod 1777 "$DIR/out"       # job output dir writable for any submitting user
cat > "$DIR/slurm.conf" <<CONF
ClusterName=localtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
InactiveLimit=0
KillWait=5
GresTypes=gpu
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1000$NODE_GRES State=UNKNOWN
PartitionName=$PART Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$DIR/slurm.conf"

# --- daemons -------------------------------------------------------------------------------
if ! alive "$DIR/slurmctld.pid"; then
  /usr/sbin/slurmctld -i -f "$SLURM_CONF"        # daemonizes; -i: ignore stale state
fi
if ! alive "$DIR/slurmd.pid"; then
  /usr/sbin/slurmd -f "$SLURM_CONF"              # daemonizes
fi
# wait until the node is usable (idle/mixed/allocated)
ok=0
for _ in $(seq 150); do
  st="$(scontrol show node "$HOST" 2>/dev/null | sed -n 's/.*State=\([A-Z+_]*\).*/\1/p' | head -1)"
  case "$st" in IDLE*|MIXED*|ALLOCATED*) ok=1; break ;; esac
  sleep 0.2
done
if [ "$ok" -ne 1 ]; then
  echo "slurm node not ready (state: ${st:-?}); logs:" >&2
  tail -20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
  exit 1
fi

echo "SLURM_CONF=$SLURM_CONF"
echo "SLURM_DIR=$DIR"
echo "SLURM_NODE=$HOST"
echo "SLURM_PARTITION=$PART"
echo "SLURM_OUT_DIR=$DIR/out"
echo "SLURMCTLD_PID=$(cat "$DIR/slurmctld.pid")"
echo "SLURMD_PID=$(cat "$DIR/slurmd.pid")"
if [ -s "$DIR/munge/munged.pid" ]; then echo "MUNGED_PID=$(cat "$DIR/munge/munged.pid")"; fi
