# Shared by scripts/run-demo and scripts/run-tests (sourced, not run): Debian packages and the virtualenv.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SUPRATA_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# install_debian_packages "package:check command" ...
# Installs the packages whose check fails, with apt-get, when running as root; otherwise says what is missing.
install_debian_packages() {
    local missing=() spec package check
    for spec in "$@"; do
        package=${spec%%:*}
        check=${spec#*:}
        if ! bash -c "$check" >/dev/null 2>&1; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        printf 'warning: missing Debian packages: %s (install them with: sudo apt-get install -y %s)\n' \
            "${missing[*]}" "${missing[*]}" >&2
        return 0
    fi
    say "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_venv EXTRAS [EDITABLE_DIR ...]
# Creates the virtualenv if needed and installs the project with EXTRAS (e.g. "demo,postgres") plus the given
# local packages, editable. Skipped when nothing changed since the last install into this virtualenv.
ensure_venv() {
    local extras=$1
    shift
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || die "Suprata needs Python 3.11 or newer as $PYTHON (set PYTHON=/path/to/python3.11)"
    install_debian_packages "python3-venv:$PYTHON -c 'import ensurepip, venv'"
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating the virtualenv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.suprata-installed-${extras//,/-}"
    local sources=("$ROOT/setup.cfg") args=(-e "$ROOT[$extras]") dir
    for dir in "$@"; do
        sources+=("$ROOT/$dir/pyproject.toml")
        args+=(-e "$ROOT/$dir")
    done
    local source
    for source in "${sources[@]}"; do
        if [ ! -f "$stamp" ] || [ "$source" -nt "$stamp" ]; then
            say "Installing Suprata ($extras) into $VENV"
            "$VENV/bin/pip" install --disable-pip-version-check "${args[@]}" >"$VENV/pip-install.log" 2>&1 \
                || { tail -n 30 "$VENV/pip-install.log" >&2; die "pip install failed (log: $VENV/pip-install.log)"; }
            touch "$stamp"
            return 0
        fi
    done
}
