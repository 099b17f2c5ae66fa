#!/usr/bin/env bash
# Starts gunicorn, a Celery worker and Celery beat side by side. Ctrl-C, SIGTERM (to this script
# or to its whole process group, as a process manager sends it) or any one of them exiting stops
# all three: each gets SIGTERM, and whatever still runs STOP_GRACE seconds later (default 10) is
# killed with SIGKILL, its child processes too. A second Ctrl-C kills at once.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
cd "$(dirname "$0")/.."
bin=.venv/bin
var=${VAR_DIR:-var}
grace=${STOP_GRACE:-10}
mkdir -p "$var/log"
# The address every link names (emails, signal headers, tdmrep.json, exports): SITE_URL when it
# is set, else this host and port (scripts/site_url.sh). Exported: gunicorn, the worker and beat
# all write links.
SITE_URL=$(bash scripts/site_url.sh "$host" "$port")
export SITE_URL

pids=()

running() {  # those of the given processes that still run (a zombie has ended)
    local pid state
    for pid in "$@"; do
        state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
        [[ -n $state && $state != Z* ]] && echo "$pid"
    done
    return 0
}

family() {  # the given processes and all their descendants
    local pid
    for pid in "$@"; do
        echo "$pid"
        # shellcheck disable=SC2046
        family $(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    done
}

stop() {
    trap - EXIT
    # A second Ctrl-C: no more waiting. A second SIGTERM changes nothing: make forwards the
    # SIGTERM that a process manager sends the group, so it always comes twice.
    trap 'grace=0' INT
    trap '' TERM
    echo
    echo "Stopping web server, worker and beat…"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local left=() start=$SECONDS
    # By the clock, not by counting rounds: on a busy machine each round takes longer.
    while ((SECONDS - start < grace)); do
        mapfile -t left < <(running "${pids[@]}")
        ((${#left[@]})) || break
        sleep 0.1
    done
    mapfile -t left < <(running "${pids[@]}")
    if ((${#left[@]})); then
        echo "Still running after ${grace} s, killed with SIGKILL:"
        ps -o pid=,args= -p "$(IFS=,; echo "${left[*]}")" || true
        # shellcheck disable=SC2046
        kill -KILL $(family "${left[@]}") 2>/dev/null || true
    fi
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/gunicorn" portal.wsgi:application --bind "$host:$port" --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - --log-level info &
pids+=($!)
"$bin/celery" -A portal worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
pids+=($!)
"$bin/celery" -A portal beat --loglevel INFO --schedule "$var/celerybeat-schedule" &
pids+=($!)

cat <<MSG

  Creator Consent Portal is running at $SITE_URL/
  (serving on $host:$port; links in emails and signals name $SITE_URL)

  Demo logins (password for every one: demo-portal-2026)
    creator (Writers' Guild, verified)   ada@demo.example
    creator (Musicians' Union, pending)  ben@demo.example
    guild staff, Writers' Guild          staff.wggb@demo.example
    guild staff, Musicians' Union        staff.mu@demo.example
    superuser                            admin@demo.example
    AI developer, Example AI Labs        dev@demo.example

  Emails are written to $var/mail/. Press Ctrl-C to stop.

MSG
# Whichever process ends first ends the others.
wait -n
