# Sourced by scripts/serve and scripts/test: make sure .venv exists and holds what pyproject.toml asks.
# Usage: ensure_venv ""      (runtime only)   or   ensure_venv "test"   (runtime + test tools)
# The stamp file remembers the hash of pyproject.toml and the extras installed, so a second run
# starts at once and a changed pyproject.toml reinstalls.

ensure_venv() {
  local extras="$1"
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local venv="$root/.venv"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3.12 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
  fi
  if ! "$python" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' 2>/dev/null; then
    echo "ipx: Python 3.11 or 3.12 is needed (found: $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
  fi
  local want
  want="$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
  local stamp="$venv/.ipx-stamp"
  if [ -f "$stamp" ]; then
    local have_hash have_extras
    read -r have_hash have_extras < "$stamp" || true
    # A venv with the test extras also serves a plain run.
    if [ "$have_hash" = "$want" ] && { [ -z "$extras" ] || [ "${have_extras:-}" = "$extras" ]; }; then
      return 0
    fi
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "ipx: creating virtual environment in .venv" >&2
    "$python" -m venv "$venv"
  fi
  echo "ipx: installing dependencies${extras:+ ($extras)} (first run only)" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  if [ -n "$extras" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[$extras]" >&2
  else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root" >&2
  fi
  local keep_extras="$extras"
  if [ -z "$extras" ] && [ -f "$stamp" ]; then
    read -r _ keep_extras < "$stamp" || true
  fi
  echo "$want ${keep_extras:-}" > "$stamp"
}
