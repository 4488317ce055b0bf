"""Shell scripts the remote training service runs on the machines.

Only bash, coreutils, tar, base64 and ``/proc`` are assumed on a machine (plus the trial's own
Python). The scripts run in the machine's long-lived shell (:class:`.ssh.SshShell`): arguments as
``$1...``, data on stdin, one record per line.
"""

from __future__ import annotations

import shlex

__all__ = ['COLLECT', 'GPU_QUERY', 'KILL', 'LAUNCH', 'POLL', 'trial_wrapper']

#: marks where the GPU listing of the inventory query ends and the busy list starts
GPU_SEPARATOR = '--nni-busy-gpus--'

#: the GPUs of a machine and those busy with compute processes (nothing without nvidia-smi)
GPU_QUERY = (
    'if command -v nvidia-smi >/dev/null 2>&1; then '
    'nvidia-smi --query-gpu=index,uuid --format=csv,noheader 2>/dev/null; '
    f'echo {GPU_SEPARATOR}; '
    'nvidia-smi --query-compute-apps=gpu_uuid --format=csv,noheader 2>/dev/null; fi; true'
)

# One line per trial on stdin: "<trial id> <pid> <start ticks> <trial dir>". Prints
# "<trial id> RUNNING", "<trial id> EXIT <code>" or "<trial id> GONE" (process gone, no exit
# code: killed by SIGKILL, or the machine rebooted). The start ticks (field 22 of
# /proc/<pid>/stat) tell our wrapper from a later process that got the same pid.
POLL = r'''
while read -r id pid ticks dir; do
  [ -n "$id" ] || continue
  if [ -s "$dir/.nni/exitcode" ]; then echo "$id EXIT $(cat "$dir/.nni/exitcode")"; continue; fi
  st=()
  read -r -a st < "/proc/$pid/stat" 2>/dev/null || true
  if [ "${st[21]:-}" = "$ticks" ] && [ "${st[2]:-}" != Z ]; then echo "$id RUNNING"; continue; fi
  if [ -s "$dir/.nni/exitcode" ]; then echo "$id EXIT $(cat "$dir/.nni/exitcode")"; else echo "$id GONE"; fi
done
'''

# Args: SIGNAL EXPERIMENT_ID [TRIAL_ID...]; stdin: process group ids, one a line. Signals each
# group, then every process of this user whose environment names the experiment (and, when trial
# ids are given, one of those trials): a trial that daemonized itself (setsid, double fork) left
# its group but still carries NNI_EXP_ID / NNI_TRIAL_JOB_ID.
KILL = r'''
sig="$1"; exp="$2"; shift 2
while read -r pg; do
  [ -n "$pg" ] && kill -s "$sig" -- "-$pg" 2>/dev/null
done
for d in /proc/[0-9]*; do
  p="${d#/proc/}"
  [ "$p" = "$$" ] && continue
  grep -qsxzF "NNI_EXP_ID=$exp" "$d/environ" || continue
  if [ $# -gt 0 ]; then
    hit=0
    for t in "$@"; do grep -qsxzF "NNI_TRIAL_JOB_ID=$t" "$d/environ" && { hit=1; break; }; done
    [ "$hit" = 1 ] || continue
  fi
  kill -s "$sig" "$p" 2>/dev/null
done
true
'''


def trial_wrapper(trial_dir: str, code_dir: str, command: str, env: dict[str, str],
                  path_prefix: str | None) -> str:
    """The bash script that runs one trial on the machine (``<trial dir>/.nni/run.sh``).

    It records its pid and start ticks in ``.nni/pid`` (it is the leader of its own session and
    process group: see :func:`launch_command`), runs the trial command with the trial's environment,
    cwd and output files, and writes the exit code to ``.nni/exitcode`` when the command ends.
    SIGINT/SIGTERM sent to the group reach the trial; the wrapper only notes them, so that it
    lives to write the exit code.
    """
    q = shlex.quote
    lines = ['#!/bin/bash', '# written by nni: runs one trial', 'trap "" HUP', 'trap true INT TERM']
    for name, value in env.items():
        lines.append(f'export {name}={q(value)}')
    if path_prefix:
        lines.append(f'export PATH={q(path_prefix)}:"$PATH"')
    nni_dir = f'{trial_dir}/.nni'
    lines += [
        'read -r -a st < /proc/$$/stat',
        f'echo "$$ ${{st[21]}}" > {q(nni_dir + "/pid.tmp")} && mv -f {q(nni_dir + "/pid.tmp")} {q(nni_dir + "/pid")}',
        f'cd {q(code_dir)} 2>/dev/null || {{ echo "nni: no trial code directory {code_dir} on this machine" '
        f'>> {q(trial_dir + "/trial.stderr")}; echo 1 > {q(nni_dir + "/exitcode")}; exit 1; }}',
        # in the foreground: a background job of a non-interactive bash would ignore SIGINT; bash
        # runs the INT/TERM trap only after the command is gone, then goes on to record the code
        f'bash -c {q(command)} > {q(trial_dir + "/trial.stdout")} 2> {q(trial_dir + "/trial.stderr")} < /dev/null',
        'code=$?',
        f'echo "$code" > {q(nni_dir + "/exitcode.tmp")} && mv -f {q(nni_dir + "/exitcode.tmp")} {q(nni_dir + "/exitcode")}',
    ]
    return '\n'.join(lines) + '\n'


#: largest file (KiB) of a trial folder copied back to the manager; bigger ones stay on the machine
COLLECT_MAX_KIB = 10240

# Args: TRIAL_DIR; stdin: a base64 tar of the trial's files (.nni/run.sh, parameter.cfg). Unpacks
# them, starts the wrapper detached and prints "pid ticks" (last line).
# `setsid -f` makes the wrapper a session and group leader that outlives this command and a
# manager restart. Not `setsid ... &`: a background job of a non-interactive shell starts with
# SIGINT ignored, and an ignored signal can be neither trapped nor reset, so the trial could not
# be interrupted. The wrapper writes its own pid, read back here.
LAUNCH = r'''
mkdir -p "$1/.nni" && base64 -d | tar -x -m --no-same-owner -C "$1" -f - || exit 1
cd / && setsid -f bash "$1/.nni/run.sh" < /dev/null > /dev/null 2>&1 || exit 1
for i in $(seq 1000); do [ -s "$1/.nni/pid" ] && break; sleep 0.01; done
cat "$1/.nni/pid"
'''

# Args: TRIAL_DIR. Prints the trial folder (files up to COLLECT_MAX_KIB each) as one base64 tar line;
# the wrapper (it holds the trial's token) and its pid file stay on the machine.
COLLECT = rf'''
cd "$1" 2>/dev/null || exit 3
find . -type f -size -{COLLECT_MAX_KIB}k ! -path ./.nni/run.sh ! -path './.nni/pid*' -print0 |
  tar -c --null -T - -f - 2>/dev/null | base64 -w 0
'''
