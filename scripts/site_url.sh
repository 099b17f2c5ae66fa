#!/usr/bin/env bash
# Prints the address the portal is reached at when it serves on HOST PORT (the arguments):
# SITE_URL from the environment when it is set (it wins), else http://HOST:PORT. A server bound
# to every interface (0.0.0.0, ::) has no address a browser can open, so this machine's
# loopback stands for it; to give other machines' browsers a working link, set SITE_URL to the
# address they use (and add its host name to ALLOWED_HOSTS when DEBUG is off).
# `make run` and `make seed` use it, so every link (emails, signal headers, tdmrep.json,
# exports) names the port the portal really serves.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
if [[ -n ${SITE_URL:-} ]]; then
    echo "${SITE_URL%/}"
    exit 0
fi
case $host in
    0.0.0.0 | "") host=127.0.0.1 ;;
    :: | "[::]") host="[::1]" ;;
    \[*) ;;                 # an IPv6 address already in brackets
    *:*) host="[$host]" ;;  # an IPv6 address
esac
echo "http://$host:$port"
