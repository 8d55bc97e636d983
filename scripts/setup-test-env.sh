#!/usr/bin/env bash
# The first step of `npm test`: checks that this machine has what the tests need, in well under a
# second when it does. When something is missing: as root on Debian/Ubuntu it installs exactly the
# missing packages; anywhere else it prints one line per missing thing and the one command that
# installs them all, and exits 1. Then it makes sure .venv holds the pinned Python test tools.
#
# What the tests need, and why:
#   redis-server        the serving and cache-loader tests run a real TLS cluster-mode server
#   openssl             they make its self-signed certificate
#   PostgreSQL >= 15    initdb and pg_ctl: the ETL, feature and snapshot tests start a throwaway
#                       server, found as test/support/postgres.ts finds it (PG_BINDIR, then
#                       `pg_config --bindir`, then the newest /usr/lib/postgresql/<version>/bin)
#   /usr/bin/python3    with torch, numpy, scipy, matplotlib and tqdm from the OS (sagemaker/bin/py
#                       runs it; scipy is what the `implicit` peer in recommender:bench needs)
#   libjemalloc2        sagemaker/bin/py preloads it: glibc malloc makes CPU torch many times slower
#   .venv               /usr/bin/python3 plus pytest and its dependencies, hash-pinned in
#                       sagemaker/requirements-test.lock; sagemaker/bin/py runs it when it exists
# RECOMMENDER_PYTHON, when set, replaces /usr/bin/python3 and .venv: it must import all of torch,
# numpy, matplotlib, tqdm and pytest itself.
#
# Then the two environments of the SageMaker PyTorch images the blueprint runs (DLC_TAGS in
# lib/platform/constructs/ml/dlc-image.ts), for the container contract tests: Python 3.12 (the
# images') with PyPI's torch and AWS's toolkits, each from its hash-pinned lock, built by uv:
#   .venv-sagemaker-training   torch 2.8 and sagemaker-training   sagemaker/requirements-sagemaker-training.lock
#   .venv-sagemaker-inference  torch 2.6, sagemaker-pytorch-inference and TorchServe (needs Java 17)
#                                                                 sagemaker/requirements-sagemaker-inference.lock
#   .venv-sagemaker-uv         uv itself                         sagemaker/requirements-uv.lock
# PyPI's Linux torch wheels carry CUDA: about 6 GB per environment, about 30 s each to download and
# unpack on CI's network (uv's cache, ~/.cache/uv, makes a rebuild on the same machine a few seconds).
# The interpreter: SAGEMAKER_PYTHON when set, else python3.12 on PATH, else pyenv's newest 3.12.
# Without one, or without Java 17, CI (CI=true) fails here; elsewhere it is said once and the
# container tests are skipped. SAGEMAKER_IMAGE_ENVS=0 leaves these environments out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly BASE_PYTHON=/usr/bin/python3
readonly LOCK=sagemaker/requirements-test.lock
readonly VENV=.venv
# A copy of the lock the venv was built from, and the mark that this script built it.
readonly VENV_LOCK="$VENV/requirements-test.lock"
readonly VENV_MARK="$VENV/.made-by-setup-test-env"
readonly PG_MIN=15
JEMALLOC_PATHS=(/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2)

os="$(uname -s)"
missing=()  # one line each: what is missing and what needs it
debs=()     # the Debian/Ubuntu packages that provide them
brews=()    # the Homebrew formulae that provide them (macOS)
notes=()    # what no package manager fixes
python_version=""

lacks() { missing+=("$1"); debs+=("$2"); [ -n "$3" ] && brews+=("$3"); return 0; }

# The directory test/support/postgres.ts picks, in its order.
postgres_bindir() {
  local candidates=() dir version
  [ -n "${PG_BINDIR:-}" ] && candidates+=("$PG_BINDIR")
  if command -v pg_config >/dev/null 2>&1 && dir="$(pg_config --bindir 2>/dev/null)"; then
    candidates+=("$dir")
  fi
  if [ -d /usr/lib/postgresql ]; then
    while read -r version; do
      candidates+=("/usr/lib/postgresql/$version/bin")
    done < <(ls /usr/lib/postgresql | grep -E '^[0-9]+$' | sort -rn)
  fi
  for dir in ${candidates[@]+"${candidates[@]}"}; do
    if [ -e "$dir/initdb" ] && [ -e "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# Built by this script from this lock for this Python (a new /usr/bin/python3 X.Y would not see the
# venv's packages).
venv_current() {
  [ -e "$VENV_MARK" ] && [ -d "$VENV/lib/python$python_version/site-packages" ] && cmp -s "$LOCK" "$VENV_LOCK"
}

check() {
  missing=() debs=() brews=() notes=()

  command -v redis-server >/dev/null 2>&1 ||
    lacks "redis-server (the serving and cache-loader tests run a real TLS cluster-mode server)" redis-server redis
  command -v openssl >/dev/null 2>&1 ||
    lacks "openssl (the tests make the cache's self-signed TLS certificate)" openssl openssl@3
  if [ "${TRINO_PARSER:-1}" != 0 ]; then
    command -v curl >/dev/null 2>&1 || lacks "curl (fetches Trino's SQL parser once)" curl curl
    [ -r /etc/ssl/certs/ca-certificates.crt ] || [ "$os" = Darwin ] ||
      lacks "ca-certificates (curl's HTTPS to Maven Central)" ca-certificates ""
    # A JDK, not only a runtime: the check runs as a single-file source program, which javac's
    # module compiles at launch.
    javac -version 2>&1 | grep -qE '^javac (1[7-9]|[2-9][0-9])' ||
      lacks "a Java 17 or later JDK (Trino's SQL parser checks the lake SQL as Athena reads it)" openjdk-17-jdk-headless openjdk@17
  fi

  local bindir version
  if ! bindir="$(postgres_bindir)"; then
    lacks "PostgreSQL $PG_MIN or later: initdb and pg_ctl (the ETL, feature and snapshot tests start a server)" \
      postgresql postgresql@17
  else
    version="$("$bindir/initdb" --version 2>/dev/null || true)"
    if [[ "$version" =~ \)\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge "$PG_MIN" ]; then
      if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
        # initdb refuses root, so as root the tests run the server as this user (Debian's
        # postgresql package makes it; a server from elsewhere does not).
        notes+=("as root the tests run PostgreSQL as the user postgres, which does not exist: useradd --system --user-group --home-dir /var/lib/postgresql postgres")
      fi
    else
      # The OS's own package is too old here (Ubuntu 22.04 ships 14): installing it again cannot help.
      notes+=("PostgreSQL $PG_MIN or later is needed; $bindir has '${version:-no version}': install a newer server (on Debian/Ubuntu from PostgreSQL's apt repository, postgresql.org/download/linux) and set PG_BINDIR to its bin directory if it is not the newest /usr/lib/postgresql/<version>/bin")
    fi
  fi

  if [ "$os" = Linux ] && [[ "$(uname -m)" =~ ^(x86_64|aarch64)$ ]]; then
    local lib found=""
    for lib in "${JEMALLOC_PATHS[@]}"; do [ -e "$lib" ] && found=1; done
    [ -n "$found" ] || lacks "libjemalloc2 (sagemaker/bin/py preloads it; CPU torch is many times slower without)" libjemalloc2 ""
  fi

  # find_spec locates a module without importing it: importing torch alone takes about a second.
  local python="$BASE_PYTHON" modules=(torch numpy scipy matplotlib tqdm pip) found module
  if [ -n "${RECOMMENDER_PYTHON:-}" ]; then
    python="$RECOMMENDER_PYTHON"
    modules=(torch numpy scipy matplotlib tqdm pytest implicit)
  elif [ "$os" = Darwin ]; then
    notes+=("macOS has no counterpart of Debian's python3-torch: make a venv with PyPI's torch (its macOS wheels carry no CUDA)" \
      "  python3 -m venv ~/.venvs/recommender && ~/.venvs/recommender/bin/pip install torch numpy matplotlib tqdm" \
      "  ~/.venvs/recommender/bin/pip install --require-hashes -r $LOCK" \
      "  export RECOMMENDER_PYTHON=~/.venvs/recommender/bin/python")
    return 0
  fi
  # Prints the interpreter's X.Y, then the modules it lacks.
  if ! found="$("$python" -c 'import importlib.util as u, sys; print("%d.%d" % sys.version_info[:2], *[m for m in sys.argv[1:] if u.find_spec(m) is None])' "${modules[@]}" 2>/dev/null)"; then
    if [ -n "${RECOMMENDER_PYTHON:-}" ]; then
      notes+=("RECOMMENDER_PYTHON=$python does not run; point it at a Python interpreter, or unset it to use $BASE_PYTHON")
      return 0
    fi
    lacks "$BASE_PYTHON (sagemaker/bin/py runs the model code and its tests with it)" python3 ""
    found="none ${modules[*]}"
  fi
  python_version="${found%% *}"
  for module in ${found#"$python_version"}; do
    if [ -n "${RECOMMENDER_PYTHON:-}" ]; then
      notes+=("RECOMMENDER_PYTHON=$python cannot import $module; install it there, or unset RECOMMENDER_PYTHON to use $BASE_PYTHON")
    elif [ "$module" = pip ]; then
      lacks "pip for $BASE_PYTHON (it installs $LOCK into $VENV)" python3-pip ""
    else
      lacks "$module for $BASE_PYTHON (the model code and its tests)" "python3-$module" ""
    fi
  done
}

report() {
  local line
  echo "setup-test-env: npm test needs what this machine lacks:" >&2
  for line in ${missing[@]+"${missing[@]}"}; do echo "  - $line" >&2; done
  if [ "${#debs[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
      echo "Install them all with:" >&2
      echo "  sudo apt-get install -y --no-install-recommends $(printf '%s\n' "${debs[@]}" | sort -u | xargs)" >&2
    elif [ "$os" = Darwin ] && [ "${#brews[@]}" -gt 0 ]; then
      echo "Install them all with:" >&2
      echo "  brew install $(printf '%s\n' "${brews[@]}" | sort -u | xargs)" >&2
      # Homebrew keeps versioned PostgreSQL formulae out of PATH.
      case " ${brews[*]} " in
        *" postgresql@17 "*) echo "  export PG_BINDIR=\"\$(brew --prefix postgresql@17)/bin\"" >&2 ;;
      esac
    else
      echo "Install them with this system's package manager (Debian names: $(printf '%s\n' "${debs[@]}" | sort -u | xargs))" >&2
    fi
  fi
  for line in ${notes[@]+"${notes[@]}"}; do echo "$line" >&2; done
}

check
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  packages="$(printf '%s\n' "${debs[@]}" | sort -u | xargs)"
  echo "setup-test-env: installing $packages" >&2
  started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  echo "setup-test-env: installed in $((SECONDS - started)) s" >&2
  check
fi
if [ "${#missing[@]}" -gt 0 ] || [ "${#notes[@]}" -gt 0 ]; then
  report
  exit 1
fi

if [ -z "${RECOMMENDER_PYTHON:-}" ] && ! venv_current; then
  if [ -e "$VENV" ] && [ ! -e "$VENV_MARK" ]; then
    echo "setup-test-env: $VENV exists but was not made by this script; move it away (it is rebuilt from $LOCK) or set RECOMMENDER_PYTHON" >&2
    exit 1
  fi
  echo "setup-test-env: building $VENV from $LOCK" >&2
  started=$SECONDS
  # The OS's torch, numpy, scipy, matplotlib and tqdm through --system-site-packages (PyPI's torch wheels
  # bring gigabytes of CUDA); the test tools from the lock. --without-pip: Debian's pip, seen
  # through the system site packages, installs into the venv, and ensurepip's 2 s are saved.
  "$BASE_PYTHON" -m venv --clear --system-site-packages --without-pip "$VENV"
  touch "$VENV_MARK"
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary :all: -r "$LOCK"; then
    echo "setup-test-env: pip could not install $LOCK into $VENV (is PyPI reachable?)" >&2
    exit 1
  fi
  cp "$LOCK" "$VENV_LOCK"
  echo "setup-test-env: $VENV built in $((SECONDS - started)) s" >&2
fi

# --- the SageMaker image environments -------------------------------------------------------------
readonly IMAGE_PYTHON_VERSION=3.12
readonly UV_VENV=.venv-sagemaker-uv
readonly UV_LOCK=sagemaker/requirements-uv.lock

# The Python of the images: SAGEMAKER_PYTHON, python3.12 on PATH, or pyenv's newest 3.12.
image_python() {
  local candidate
  if [ -n "${SAGEMAKER_PYTHON:-}" ]; then
    echo "$SAGEMAKER_PYTHON"
    return 0
  fi
  for candidate in "$(command -v "python$IMAGE_PYTHON_VERSION" 2>/dev/null)" \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$IMAGE_PYTHON_VERSION".*/bin/python"$IMAGE_PYTHON_VERSION" 2>/dev/null | sort -rV); do
    # pyenv's shim exists even where the version is not installed; running it tells.
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Built by this script from this lock (a copy of which it keeps) for this interpreter.
image_venv_current() {
  local venv="$1" lock="$2" python="$3"
  [ -e "$venv/.made-by-setup-test-env" ] && cmp -s "$lock" "$venv/$(basename "$lock")" &&
    [ "$(cat "$venv/.base-python" 2>/dev/null)" = "$python" ] && [ -x "$venv/bin/python" ]
}

# Makes `venv` hold exactly `lock`: uv itself with pip, the image environments with uv.
build_image_venv() {
  local venv="$1" lock="$2" python="$3" started=$SECONDS
  if [ -e "$venv" ] && [ ! -e "$venv/.made-by-setup-test-env" ]; then
    echo "setup-test-env: $venv exists but was not made by this script; move it away (it is rebuilt from $lock)" >&2
    exit 1
  fi
  echo "setup-test-env: building $venv from $lock" >&2
  rm -rf "$venv"
  if [ "$venv" = "$UV_VENV" ]; then
    # The interpreter's own pip installs into the venv (--python): ensurepip would take longer than uv.
    local pip=("$python" -m pip --python "$venv/bin/python")
    if "$python" -m pip --version >/dev/null 2>&1; then
      "$python" -m venv --without-pip "$venv"
    else
      "$python" -m venv "$venv"
      pip=("$venv/bin/python" -m pip)
    fi
    touch "$venv/.made-by-setup-test-env"
    "${pip[@]}" install --quiet --disable-pip-version-check --no-input \
      --require-hashes --only-binary :all: -r "$lock" ||
      { echo "setup-test-env: pip could not install $lock into $venv (is PyPI reachable?)" >&2; exit 1; }
  else
    "$UV_VENV/bin/uv" venv --quiet --python "$python" "$venv"
    touch "$venv/.made-by-setup-test-env"
    # sagemaker-training is published as source only: uv builds it (its C extension needs gcc).
    "$UV_VENV/bin/uv" pip sync --quiet --python "$venv/bin/python" --require-hashes "$lock" ||
      { echo "setup-test-env: uv could not install $lock into $venv (is PyPI reachable?)" >&2; exit 1; }
  fi
  cp "$lock" "$venv/"
  echo "$python" > "$venv/.base-python"
  echo "setup-test-env: $venv built in $((SECONDS - started)) s ($(du -sh "$venv" | cut -f1))" >&2
}

# A missing prerequisite fails CI, where the container tests must run, and only warns elsewhere.
image_envs_unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "setup-test-env: $1; CI runs the SageMaker container contract tests, which need it" >&2
    exit 1
  fi
  echo "setup-test-env: $1; the SageMaker container contract tests will be skipped" >&2
}

# Current when each was built from its lock by an interpreter still there: then nothing is run (finding
# the interpreter through pyenv's shim and asking Java its version take seconds).
image_envs_current() {
  local venv lock python
  for venv in "$UV_VENV" .venv-sagemaker-training .venv-sagemaker-inference; do
    case "$venv" in
      "$UV_VENV") lock="$UV_LOCK" ;;
      *) lock="sagemaker/requirements-${venv#.venv-}.lock" ;;
    esac
    python="$(cat "$venv/.base-python" 2>/dev/null)" && [ -x "$python" ] &&
      image_venv_current "$venv" "$lock" "$python" || return 1
  done
}

if [ "${SAGEMAKER_IMAGE_ENVS:-1}" != 0 ] && ! image_envs_current; then
  if ! python="$(image_python)"; then
    image_envs_unavailable "no Python $IMAGE_PYTHON_VERSION (the SageMaker images' version): install it (pyenv install $IMAGE_PYTHON_VERSION) or set SAGEMAKER_PYTHON"
  elif ! java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
    image_envs_unavailable "no Java 17 or later on PATH (TorchServe, the inference image's model server, runs on it): apt-get install openjdk-17-jre-headless"
  else
    image_venv_current "$UV_VENV" "$UV_LOCK" "$python" || build_image_venv "$UV_VENV" "$UV_LOCK" "$python"
    for kind in training inference; do
      venv=".venv-sagemaker-$kind"
      lock="sagemaker/requirements-sagemaker-$kind.lock"
      image_venv_current "$venv" "$lock" "$python" || build_image_venv "$venv" "$lock" "$python"
    done
  fi
fi

# Trino's SQL parser (Athena engine v3 is Trino), pinned by hash: the lake SQL's dialect test
# parses every query with it, offline, and fails without it. Downloads once (about 5 MB), then only
# checks the hashes. TRINO_PARSER=0 leaves it out (the set-up's own tests do).
[ "${TRINO_PARSER:-1}" = 0 ] || bash scripts/setup-trino-parser.sh >/dev/null
