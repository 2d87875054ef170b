#!/usr/bin/env bash
# Contract check for CI: install the harness (unless told not to) and run `contracts run`.
# Inputs come from the environment, as the composite action (action.yml) passes them:
#   INPUT_URL            backend base URL, without /api/v1; empty: the bundled fake on a loopback port
#   INPUT_CLIENT_ID      application client id (a real deployment); INPUT_CLIENT_SECRET its secret
#   INPUT_PROJECT_ID     project to create trainings in (default: discovered)
#   INPUT_MAX_DURATION   seconds for the whole run (default 300)
#   INPUT_REPORT_DIR     where JUnit, Markdown and HTML reports go (default contract-reports)
#   INPUT_EXTRA_ARGS     more `contracts run` flags, split on spaces
#   RUNAI_MOCK_SOURCE    what pip installs (default: the directory above this script's examples/)
#   RUNAI_MOCK_SKIP_INSTALL=1   use the `contracts` already on PATH
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${RUNAI_MOCK_SKIP_INSTALL:-0}" != "1" ]; then
  python -m pip install --quiet "${RUNAI_MOCK_SOURCE:-$here/../..}"
fi
args=(run --report-dir "${INPUT_REPORT_DIR:-contract-reports}" --max-duration "${INPUT_MAX_DURATION:-300}")
if [ -n "${INPUT_URL:-}" ]; then
  args+=(--url "$INPUT_URL")
  # Writes on a non-loopback target must be asked for: a contract check creates (and deletes) trainings.
  case "$INPUT_URL" in
    http://127.* | http://localhost* | http://\[::1\]*) ;;
    *) args+=(--allow-writes) ;;
  esac
fi
[ -n "${INPUT_CLIENT_ID:-}" ] && args+=(--client-id "$INPUT_CLIENT_ID")
[ -n "${INPUT_PROJECT_ID:-}" ] && args+=(--project-id "$INPUT_PROJECT_ID")
if [ -n "${INPUT_CLIENT_SECRET:-}" ]; then
  # Through the environment, so the secret never shows in a process listing.
  export RUNAI_CLIENT_SECRET="$INPUT_CLIENT_SECRET"
fi
# shellcheck disable=SC2206
[ -n "${INPUT_EXTRA_ARGS:-}" ] && args+=($INPUT_EXTRA_ARGS)
exec contracts "${args[@]}"
