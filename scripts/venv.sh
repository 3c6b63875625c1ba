# Sourced by the scripts: makes .venv (or $VENV) with the project installed at the versions
# pinned in constraints.txt, with the extras in $EXTRAS (e.g. "[test]"), and reinstalls only
# when pyproject.toml, constraints.txt or the extras change.
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="${EXTRAS:-}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
inputs=$( { cat pyproject.toml constraints.txt; echo "$EXTRAS"; } \
    | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
stamp="$VENV/.lambda-gitops-installed"
if [ ! -f "$stamp" ] || ! grep -qx "$inputs" "$stamp"; then
    echo "== installing lambda-gitops$EXTRAS into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --constraint constraints.txt --editable ".$EXTRAS"
    echo "$inputs" >> "$stamp"
fi
