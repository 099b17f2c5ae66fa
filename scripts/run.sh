#!/usr/bin/env bash
# Starts gunicorn, a Celery worker and Celery beat side by side; Ctrl-C (or any one of them
# exiting) stops all three.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
cd "$(dirname "$0")/.."
bin=.venv/bin
mkdir -p var/log

pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "Stopping web server, worker and beat…"
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/gunicorn" portal.wsgi:application --bind "$host:$port" --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - --log-level info &
pids+=($!)
"$bin/celery" -A portal worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
pids+=($!)
"$bin/celery" -A portal beat --loglevel INFO --schedule var/celerybeat-schedule &
pids+=($!)

cat <<MSG

  Creator Consent Portal is running at http://$host:$port/

  Demo logins (password for every one: demo-portal-2026)
    creator (Writers' Guild, verified)   ada@demo.example
    creator (Musicians' Union, pending)  ben@demo.example
    guild staff, Writers' Guild          staff.wggb@demo.example
    guild staff, Musicians' Union        staff.mu@demo.example
    superuser                            admin@demo.example

  Emails are written to var/mail/. Press Ctrl-C to stop.

MSG
# Whichever process ends first ends the others.
wait -n
