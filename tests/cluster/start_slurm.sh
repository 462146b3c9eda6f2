#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for testing the slurm profile (tests/cluster/).
#
#   bash tests/cluster/start_slurm.sh [STATE_DIR]          start (or reuse) the cluster
#   bash tests/cluster/start_slurm.sh --stop [STATE_DIR]   stop its daemons
#
# Installs the Debian packages munge, slurmctld, slurmd, slurm-client when missing, writes
# slurm.conf/gres.conf/munge key into STATE_DIR (default /tmp/mednarratives-slurm) and starts munged,
# slurmctld and `slurmd -N localhost` there, as root, without systemd. Partitions: cpu (default), gpu.
# One fake GPU: a gres backed by a mknod'ed $STATE_DIR/dev/nvidia0 (or /dev/null where mknod is not
# allowed, or with MEDNARRATIVES_FAKE_GPU_NULL=1); jobs with --gpus=1 get CUDA_VISIBLE_DEVICES=0.
# Nothing is written outside STATE_DIR (besides apt). Ports: two free ones, so it coexists with a real SLURM.
# Idempotent: a cluster already answering from STATE_DIR is reused.
# Then `. STATE_DIR/env` (SLURM_CONF=STATE_DIR/slurm.conf, STATE_DIR/bin first on PATH) and use sbatch & co.
#
# Exit codes: 0 up; 77 not root; 78 the packages could not be installed; 1 a daemon failed (see logs).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
STOP=0
if [ "${1:-}" = "--stop" ]; then STOP=1; shift; fi
STATE="${1:-${MEDNARRATIVES_SLURM_STATE:-/tmp/mednarratives-slurm}}"
PACKAGES=(munge slurmctld slurmd slurm-client)

log() { echo "start_slurm: $*" >&2; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

any_alive() { local p; for p; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

stop_daemons() {
  local f pids=()
  # Jobs still running in this cluster (a killed test run) go first, so no slurmstepd is left behind.
  if pid_alive "$STATE/slurmctld.pid" && [ -s "$STATE/slurm.conf" ]; then
    SLURM_CONF="$STATE/slurm.conf" scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF="$STATE/slurm.conf" squeue -h -t active -o %i 2>/dev/null)" ] && break; sleep 0.2
    done
  fi
  for f in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/munge/munged.pid"; do
    pid_alive "$f" && pids+=("$(cat "$f")")
    rm -f "$f"
  done
  ((${#pids[@]})) || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 100); do any_alive "${pids[@]}" || return 0; sleep 0.1; done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

if [ "$STOP" = 1 ]; then
  [ -d "$STATE" ] && stop_daemons
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "needs root (starts slurmctld/slurmd/munged and may apt-get install)"; exit 77
fi

# --- packages ----------------------------------------------------------------------------------
mkdir -p "$STATE"
chmod 700 "$STATE"
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$STATE/apt.log" 2>&1
  }
  if ! apt_install; then
    apt-get update -qq >>"$STATE/apt.log" 2>&1 || true
    if ! apt_install; then
      tail -n 20 "$STATE/apt.log" >&2
      log "apt-get install ${missing[*]} failed"; exit 78
    fi
  fi
fi

export SLURM_CONF="$STATE/slurm.conf"

node_state() { sinfo -h -n localhost -o %t 2>/dev/null | head -n 1; }

# --- reuse a running cluster -------------------------------------------------------------------
if pid_alive "$STATE/munge/munged.pid" && pid_alive "$STATE/slurmctld.pid" && pid_alive "$STATE/slurmd.pid" \
   && scontrol ping >/dev/null 2>&1 && [[ "$(node_state)" =~ ^(idle|mix|alloc) ]]; then
  log "reusing the cluster in $STATE"
  echo "SLURM_CONF=$SLURM_CONF"
  exit 0
fi

# --- fresh configuration -----------------------------------------------------------------------
stop_daemons 2>/dev/null || true
rm -rf "$STATE/ctld" "$STATE/slurmd" "$STATE/munge" "$STATE/log" "$STATE/dev" "$STATE/bin"
mkdir -p "$STATE/ctld" "$STATE/slurmd" "$STATE/munge" "$STATE/log"
chmod 700 "$STATE/munge"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CTLD_PORT="$(free_port)"
SLURMD_PORT="$(free_port)"
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT="$(free_port)"; done

# The node as slurmd sees it (CPUs, sockets, cores, memory), renamed to localhost; keep ~10% memory back.
NODE_LINE="$(slurmd -C | head -n 1 | sed -e 's/^NodeName=[^ ]*/NodeName=localhost NodeAddr=127.0.0.1/')"
mem="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")"
NODE_LINE="$(sed -e "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/" <<<"$NODE_LINE")"

# The fake GPU: a character device named like a real one (CUDA_VISIBLE_DEVICES=0), else /dev/null.
GPU_FILE=/dev/null
mkdir -p "$STATE/dev"
if [ -z "${MEDNARRATIVES_FAKE_GPU_NULL:-}" ] && mknod "$STATE/dev/nvidia0" c 195 0 2>/dev/null; then GPU_FILE="$STATE/dev/nvidia0"; fi

CTLD_HOST="$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)"  # slurmctld runs only on the host named in SlurmctldHost
sed -e "s|@STATE@|$STATE|g" -e "s|@CTLD_HOST@|$CTLD_HOST|g" -e "s|@CTLD_PORT@|$CTLD_PORT|g" \
    -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" -e "s|@NODE_LINE@|$NODE_LINE|g" \
    "$HERE/slurm/slurm.conf.in" >"$STATE/slurm.conf"
sed -e "s|@GPU_FILE@|$GPU_FILE|g" "$HERE/slurm/gres.conf.in" >"$STATE/gres.conf"
# Debian's /etc/slurm/plugstack.conf is not ours to rely on: an empty one next to slurm.conf.
: >"$STATE/plugstack.conf"
# snakemake-executor-plugin-slurm-jobstep (0.6.1) drops every SLURM_* variable, SLURM_CONF included,
# before its srun inside the job; srun then finds no configuration (it is not in /etc/slurm). A srun on
# PATH that restores SLURM_CONF gets around it without writing outside STATE_DIR.
mkdir -p "$STATE/bin"
SRUN=/usr/bin/srun; [ -x "$SRUN" ] || SRUN="$(command -v srun)"
printf '#!/bin/sh\nSLURM_CONF="%s" exec "%s" "$@"\n' "$SLURM_CONF" "$SRUN" >"$STATE/bin/srun"
chmod 755 "$STATE/bin/srun"
printf 'export SLURM_CONF="%s"\nexport PATH="%s:$PATH"\n' "$SLURM_CONF" "$STATE/bin" >"$STATE/env"

# --- daemons -----------------------------------------------------------------------------------
fail() {
  log "$1"
  for f in "$STATE"/log/*.log; do [ -s "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}

if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$STATE/munge/munge.key" >/dev/null 2>&1 \
    || dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
else
  dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$STATE/munge/munge.key"
munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket" \
  --pid-file="$STATE/munge/munged.pid" --seed-file="$STATE/munge/munged.seed" \
  --log-file="$STATE/log/munged.log" || fail "munged did not start"

slurmctld -c -f "$SLURM_CONF" || fail "slurmctld did not start"
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.2; done
scontrol ping >/dev/null 2>&1 || fail "slurmctld does not answer (scontrol ping)"

slurmd -N localhost -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 150); do [[ "$(node_state)" =~ ^(idle|mix|alloc) ]] && break; sleep 0.2; done
state="$(node_state)"
if ! [[ "$state" =~ ^(idle|mix|alloc) ]]; then
  scontrol show node localhost >&2 || true
  fail "node localhost is '$state', not idle"
fi
log "cluster up in $STATE (node localhost $state, gpu file $GPU_FILE)"
echo "SLURM_CONF=$SLURM_CONF"
