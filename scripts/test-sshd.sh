#!/usr/bin/env bash
# A real OpenSSH server for the remote training service tests, contained in one directory:
# its own host key, client key pair, authorized_keys, config, pid file and log.
# Adapted from ../shared/recipes/ssh.sh; adds an optional password login for a test user.
# Idempotent: if the sshd of DIR is alive it only prints its info again.
#
#   bash scripts/test-sshd.sh start DIR [PORT]   # PORT default 2222; prints KEY=VALUE lines
#   bash scripts/test-sshd.sh stop DIR           # kills the sshd of DIR by its recorded pid
#
# Env (optional):
#   SSH_LISTEN="127.0.0.2"            addresses to listen on (default 127.0.0.1); every 127.x.y.z
#                                     works on Linux without setup, so each is a "machine"
#   SSH_PASSWORD_USER=nnitest         (root only) create this user if missing, set its password
#   SSH_PASSWORD=secret               to SSH_PASSWORD, and allow password logins (for it only)
set -euo pipefail

cmd="${1:-}"; DIR="${2:-}"
if [ -z "$cmd" ] || [ -z "$DIR" ]; then
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2
fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PIDFILE="$DIR/sshd.pid"

alive() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

if [ "$cmd" = stop ]; then
  if alive; then
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  fi
  rm -f "$PIDFILE"
  exit 0
fi
[ "$cmd" = start ] || { echo "unknown command: $cmd" >&2; exit 2; }

PORT="${3:-2222}"
LISTEN="${SSH_LISTEN:-127.0.0.1}"
PW_USER="${SSH_PASSWORD_USER:-}"
PW="${SSH_PASSWORD:-}"
ME="$(id -un)"

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "openssh-server missing and not root" >&2; exit 1; }
  echo "installing openssh-server (apt)..." >&2
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # keep the package from starting a system sshd on port 22
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

chmod 755 "$DIR"                       # other users' sshd children must read authorized_keys
mkdir -p "$DIR/authorized_keys"; chmod 755 "$DIR/authorized_keys"
[ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C test-host -f "$DIR/ssh_host_ed25519_key"
[ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C test-client -f "$DIR/id_ed25519"
chmod 600 "$DIR/ssh_host_ed25519_key" "$DIR/id_ed25519"
install -m 644 "$DIR/id_ed25519.pub" "$DIR/authorized_keys/$ME"

if [ -n "$PW_USER" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "SSH_PASSWORD_USER needs root" >&2; exit 1; }
  [ -n "$PW" ] || { echo "SSH_PASSWORD_USER needs SSH_PASSWORD" >&2; exit 1; }
  id "$PW_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$PW_USER"
  # with UsePAM no, sshd checks the /etc/shadow hash itself
  echo "$PW_USER:$PW" | chpasswd
fi

{
  echo "Port $PORT"
  for a in $LISTEN; do echo "ListenAddress $a"; done
  echo "HostKey $DIR/ssh_host_ed25519_key"
  echo "PidFile $PIDFILE"
  echo "AuthorizedKeysFile $DIR/authorized_keys/%u"
  echo "PubkeyAuthentication yes"
  echo "PasswordAuthentication no"
  echo "KbdInteractiveAuthentication no"
  echo "PermitRootLogin prohibit-password"
  echo "UsePAM no"
  echo "StrictModes no"
  echo "PrintMotd no"
  echo "MaxSessions 100"
  echo "Subsystem sftp internal-sftp"
  # non-interactive commands get sshd's default PATH; hand over ours so that the same python is found
  echo "SetEnv PATH=$PATH"
  if [ -n "$PW_USER" ]; then
    echo "Match User $PW_USER"
    echo "  PasswordAuthentication yes"
  fi
} > "$DIR/sshd_config"

: > "$DIR/known_hosts"
for a in $LISTEN localhost; do
  echo "[$a]:$PORT $(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" >> "$DIR/known_hosts"
done

if ! alive; then
  [ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd   # privilege separation dir (root only)
  /usr/sbin/sshd -t -f "$DIR/sshd_config"
  /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"   # daemonizes, writes PidFile
  first="${LISTEN%% *}"
  for _ in $(seq 100); do
    if alive && (exec 3<>"/dev/tcp/$first/$PORT") 2>/dev/null; then break; fi
    sleep 0.05
  done
  alive || { echo "sshd failed to start; log:" >&2; cat "$DIR/sshd.log" >&2; exit 1; }
fi

echo "SSH_DIR=$DIR"
echo "SSH_PORT=$PORT"
echo "SSH_HOST=${LISTEN%% *}"
echo "SSH_USER=$ME"
[ -z "$PW_USER" ] || echo "SSH_PASSWORD_USER=$PW_USER"
echo "SSH_KEY=$DIR/id_ed25519"
echo "SSH_KNOWN_HOSTS=$DIR/known_hosts"
echo "SSH_PID=$(cat "$PIDFILE")"
