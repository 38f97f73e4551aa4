#!/usr/bin/env bash
# cluster.sh -- a throwaway single-node Slurm cluster for the tests (munged + slurmctld + slurmd).
#
#   cluster.sh start STATE   start one; STATE is a file this writes (shell assignments to source:
#                            SLURM_CONF, LS_SLURM_SCRATCH, the PIDs). Exit 0 when up, 77 (= skip)
#                            when Slurm cannot run here (not root, packages absent and not installable),
#                            1 when it should run but did not come up (logs are printed).
#   cluster.sh stop STATE    stop exactly the processes that `start` recorded, remove the scratch dir.
#
# Everything lives under a fresh scratch directory (config, munge key/socket/pid, spool, state, logs);
# the ports are picked free at start (or LS_SLURM_PORT, LS_SLURM_PORT+1). No systemd, nothing under
# /etc or /run is touched, no process is ever stopped by name. A watchdog started with the daemons stops
# them after LS_SLURM_MAX_S seconds (default 1800) in case `stop` never runs (ctest killed).
# As in ../../shared/brief/hpc.md section 5; Slurm 22.05, munge 0.5.15.
set -u

ls_slurm_skip() { echo "SKIP: Slurm tests: $*" >&2; exit 77; }

# Install the packages when missing, the way scripts/deps.sh does (root only, never prompts).
ls_slurm_ensure_packages() {
  local p missing=()
  # installed some other way (from source, modules): nothing to do
  if [ -x /usr/sbin/munged ] && [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] &&
     command -v sbatch >/dev/null; then
    return 0
  fi
  command -v dpkg-query >/dev/null || ls_slurm_skip "Slurm/munge not installed and this is not Debian"
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || ls_slurm_skip "packages ${missing[*]} absent and no apt-get"
  echo "cluster.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/dev/null 2>&1 || ls_slurm_skip "packages ${missing[*]} absent and apt-get install failed"
}

# A TCP port nobody listens on, from $1 upwards (checks ss's listening table).
ls_slurm_free_port() {
  local p=$1 used
  used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
  while [ $p -lt 65000 ]; do
    if ! grep -qx "$p" <<<"$used" && ! grep -qx "$((p + 1))" <<<"$used"; then echo $p; return; fi
    p=$((p + 2))
  done
  echo 0
}

ls_slurm_start() {
  local state=$1
  [ "$(id -u)" -eq 0 ] || ls_slurm_skip "needs root (the daemons run as root/munge); uid is $(id -u)"
  ls_slurm_ensure_packages
  local b
  for b in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sbatch scontrol sinfo setpriv; do
    command -v "$b" >/dev/null || ls_slurm_skip "$b not found"
  done
  id munge >/dev/null 2>&1 || ls_slurm_skip "no 'munge' user (package munge incomplete)"

  ls_slurm_stop "$state"   # a state file left by an earlier run that was never stopped
  local dir port
  dir=$(mktemp -d /tmp/ls-slurm.XXXXXX) || exit 1
  chmod 0755 "$dir"
  port=${LS_SLURM_PORT:-$(ls_slurm_free_port $((20000 + $$ % 20000)))}
  [ "$port" -gt 0 ] || { echo "cluster.sh: no free port" >&2; exit 1; }
  mkdir -p "$dir"/{etc,spool,state,log,job}
  install -d -o munge -g munge -m 0700 "$dir/munge"
  # munged insists on a key only munge can read; a fresh random one, not the system's.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=128 status=none
  chown munge:munge "$dir/munge/munge.key"; chmod 0400 "$dir/munge/munge.key"
  local sock=$dir/munge/munge.socket
  chmod 0755 "$dir/munge"   # clients (root here, users elsewhere) must reach the socket

  cat >"$dir/etc/slurm.conf" <<EOF
# throwaway test cluster written by tests/slurm/cluster.sh
ClusterName=lstest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
SlurmdParameters=config_overrides
# short waits: the tests check signal and time-limit handling
KillWait=10
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  # slurmstepd and srun read the plugstack through the config dir; keep it empty.
  : >"$dir/etc/plugstack.conf"

  local logs="$dir/log"
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F \
    --socket="$sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    </dev/null >>"$logs/munged.out" 2>&1 &
  local munge_pid=$!
  { echo "LS_SLURM_SCRATCH=$dir"; echo "LS_MUNGE_PID=$munge_pid"; } >"$state"
  local i
  for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  [ -S "$sock" ] || ls_slurm_fail "$state" "munged did not create its socket"

  export SLURM_CONF=$dir/etc/slurm.conf
  # slurmctld checks time limits (and sends --signal warnings) every 30 s from its start: tests that
  # need a signal at a known moment align on this
  echo "LS_SLURMCTLD_T0=$(date +%s.%N)" >>"$state"
  setsid /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$logs/slurmctld.out" 2>&1 &
  echo "LS_SLURMCTLD_PID=$!" >>"$state"
  setsid /usr/sbin/slurmd -D -N localhost -f "$SLURM_CONF" </dev/null >>"$logs/slurmd.out" 2>&1 &
  echo "LS_SLURMD_PID=$!" >>"$state"
  # watchdog: if nobody calls stop (ctest killed, machine busy), the daemons still go away.
  local pids
  pids="$munge_pid $(sed -n 's/^LS_SLURM.*_PID=//p' "$state" | tr '\n' ' ')"
  setsid bash -c "sleep ${LS_SLURM_MAX_S:-1800}; kill $pids 2>/dev/null; rm -rf '$dir'" \
    </dev/null >/dev/null 2>&1 &
  { echo "LS_WATCHDOG_PID=$!"; echo "SLURM_CONF=$SLURM_CONF"; echo "LS_SLURM_PORT=$port"; } >>"$state"

  for i in $(seq 300); do   # up to 30 s on a busy machine; ~1.2 s when idle
    sinfo -h -o %t 2>/dev/null | grep -qx idle && break
    sleep 0.1
  done
  sinfo -h -o %t 2>/dev/null | grep -qx idle || ls_slurm_fail "$state" "node did not become idle"
  echo "cluster.sh: Slurm up in $dir (port $port)" >&2
}

# Print the logs, stop what was started, exit 1.
ls_slurm_fail() {
  local state=$1; shift
  echo "cluster.sh: $*" >&2
  local d; d=$(sed -n 's/^LS_SLURM_SCRATCH=//p' "$state")
  [ -n "$d" ] && tail -n 30 "$d"/log/* "$d"/munge/munged.log 2>/dev/null >&2
  ls_slurm_stop "$state"
  exit 1
}

# Stop the recorded PIDs: TERM, then KILL after 5 s for any still alive.
ls_slurm_stop() {
  local state=$1
  [ -f "$state" ] || return 0
  local SLURM_CONF="" LS_SLURM_SCRATCH="" LS_MUNGE_PID="" LS_SLURMCTLD_PID="" LS_SLURMD_PID="" LS_WATCHDOG_PID=""
  # shellcheck disable=SC1090
  . "$state"
  # Jobs still running (a test that failed half-way): cancel them while the daemons can.
  if [ -n "${SLURM_CONF:-}" ] && [ -S "$LS_SLURM_SCRATCH/munge/munge.socket" ]; then
    local jobs i
    jobs=$(SLURM_CONF=$SLURM_CONF squeue -h -o %A 2>/dev/null | sort -u)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$SLURM_CONF scancel $jobs 2>/dev/null
      for i in $(seq 100); do
        [ -z "$(SLURM_CONF=$SLURM_CONF squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  # Only processes whose command line names our scratch dir: a recorded PID reused since is left alone.
  local p pids=""
  for p in $LS_SLURMD_PID $LS_SLURMCTLD_PID $LS_MUNGE_PID; do
    [ -n "$LS_SLURM_SCRATCH" ] && tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$LS_SLURM_SCRATCH" &&
      pids="$pids $p"
  done
  for p in $pids; do kill -TERM "$p" 2>/dev/null; done
  local i alive=""
  for i in $(seq 50); do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  for p in $alive; do kill -KILL "$p" 2>/dev/null; done
  # Left-overs of jobs: slurmstepd, or processes with a SLURM_JOB_ID, carrying our SLURM_CONF.
  local e env
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}; p=${p%/environ}
    env=$(tr '\0' '\n' 2>/dev/null <"$e") || continue
    grep -qxF "SLURM_CONF=$LS_SLURM_SCRATCH/etc/slurm.conf" <<<"$env" || continue
    if grep -q '^SLURM_JOB_ID=' <<<"$env" || grep -q '^slurmstepd' "/proc/$p/comm" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null
    fi
  done
  # the watchdog leads its own process group (setsid): end it and its sleep
  [ -n "$LS_WATCHDOG_PID" ] && tr '\0' ' ' 2>/dev/null <"/proc/$LS_WATCHDOG_PID/cmdline" |
    grep -qF "$LS_SLURM_SCRATCH" && kill -- "-$LS_WATCHDOG_PID" 2>/dev/null
  case "$LS_SLURM_SCRATCH" in /tmp/ls-slurm.*) rm -rf "$LS_SLURM_SCRATCH" ;; esac
  rm -f "$state"
  sleep 0.2   # KILLed processes vanish asynchronously
  for p in $pids; do
    # a zombie (state Z: ended, not yet reaped by its new parent) counts as stopped
    if kill -0 "$p" 2>/dev/null && ! awk '{exit $3 != "Z"}' "/proc/$p/stat" 2>/dev/null; then
      echo "cluster.sh: process $p is still running" >&2
      return 1
    fi
  done
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) [ $# -eq 2 ] || { echo "usage: $0 start|stop STATE" >&2; exit 2; }; ls_slurm_start "$2" ;;
    stop)  [ $# -eq 2 ] || { echo "usage: $0 start|stop STATE" >&2; exit 2; }; ls_slurm_stop "$2" ;;
    *) echo "usage: $0 start|stop STATE" >&2; exit 2 ;;
  esac
fi
