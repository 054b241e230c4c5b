#!/usr/bin/env bash
# Runs pytest with the first Python that has it: $NAGBENCH_PYTHON, Debian's /usr/bin/python3, then python3 on PATH
# (pyenv builds on PATH often lack pytest; GPU images keep it in their own venv).
for py in "${NAGBENCH_PYTHON:-}" /usr/bin/python3 python3; do
  [[ -n "$py" ]] || continue
  if "$py" -c "import pytest" 2>/dev/null; then
    exec "$py" -m pytest -q -p no:cacheprovider "$@"
  fi
done
echo "run_pytest.sh: no Python with pytest found (Debian: apt install python3-pytest)" >&2
exit 1
