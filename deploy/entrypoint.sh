#!/bin/sh
# The image's entrypoint: `mel experiment ARGS…`, `mel learner ARGS…` or `mel health`.
set -eu
cd /app
case "${1:-}" in
  experiment | learner)
    command=$1
    shift
    exec node --initial-old-space-size=256 --import tsx "src/cli/$command.ts" "$@"
    ;;
  health)
    # MEL_PORT: the orchestrator's port (it accepts TCP there); otherwise the host process runs.
    if [ -n "${MEL_PORT:-}" ]; then
      exec node -e "require('node:net').connect(Number(process.env.MEL_PORT), '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
    fi
    exec kill -0 1
    ;;
  *)
    echo "usage: mel experiment ARGS… | mel learner ARGS… | mel health   (each command's --help lists its flags)" >&2
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
    ;;
esac
