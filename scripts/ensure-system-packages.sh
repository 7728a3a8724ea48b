#!/usr/bin/env bash
# Installs the system packages pip cannot bring, when missing: Pango/HarfBuzz for WeasyPrint
# (PDF invoices); with --browser, Debian's chromium for the browser tests; with --bench, wrk.
# As root on Debian it uses apt-get; elsewhere it stops and says exactly what to install.
#
#   scripts/ensure-system-packages.sh [--browser|--bench] [--check]
#
# --check only reports: the missing packages on stdout and exit 1, or nothing and exit 0.
# apt-get waits up to APT_LOCK_TIMEOUT seconds (default 600) for another apt or dpkg process
# (unattended upgrades, a parallel `make`) to release its lock instead of failing at once.
# The functions can be sourced (tests/core/test_system_packages.py does).
set -euo pipefail

APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
APT_LOCK_RETRY_SECONDS=${APT_LOCK_RETRY_SECONDS:-2}

# dpkg's word: the package is installed (not half-installed, not only its config files).
pkg_installed() {
  command -v dpkg-query >/dev/null 2>&1 || return 1
  local status
  status=$(dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null) || return 1
  [[ $'\n'$status$'\n' == *$'\n'installed$'\n'* ]]
}

# The dynamic loader's cache names the library (no dpkg, or the library came another way).
# The cache is read whole, then matched: `ldconfig -p | grep -q` under pipefail failed about
# one run in fifteen, when grep exited at its match before ldconfig had written everything
# (SIGPIPE, status 141) and an installed package was reported missing.
LDCONFIG_CACHE=""
have_lib() {
  if [[ -z $LDCONFIG_CACHE ]]; then
    LDCONFIG_CACHE=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
  fi
  [[ $LDCONFIG_CACHE == *"$1"* ]]
}

# The packages missing for `mode` ("" | --browser | --bench), one per line.
missing_packages() {
  local mode=${1:-} pkg_lib pkg lib
  for pkg_lib in libpango-1.0-0:libpango-1.0.so.0 libpangoft2-1.0-0:libpangoft2-1.0.so.0 \
    libharfbuzz-subset0:libharfbuzz-subset.so.0; do
    pkg=${pkg_lib%%:*} lib=${pkg_lib#*:}
    pkg_installed "$pkg" || have_lib "$lib" || echo "$pkg"
  done
  if [[ $mode == --browser ]] && [[ ! -x /usr/bin/chromium ]]; then
    echo chromium
  fi
  if [[ $mode == --bench ]] && ! command -v wrk >/dev/null 2>&1; then
    echo wrk
  fi
}

# apt-get that waits for another apt/dpkg process: `DPkg::Lock::Timeout` makes apt wait for
# dpkg's lock itself (install), but `apt-get update` ignores it for the package lists' lock, so
# a lock refusal is also retried here until the same deadline. Output is shown as it comes.
apt_get() {
  local deadline=$((SECONDS + APT_LOCK_TIMEOUT)) log rc said=""
  log=$(mktemp)
  while :; do
    rc=0
    LC_ALL=C apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@" 2>&1 | tee "$log" ||
      rc=${PIPESTATUS[0]}
    if ((rc == 0)) || ! grep -q "Could not get lock" "$log" || ((SECONDS >= deadline)); then
      rm -f "$log"
      return "$rc"
    fi
    if [[ -z $said ]]; then
      echo "Waiting for another apt/dpkg process to release its lock (up to ${APT_LOCK_TIMEOUT}s)..."
      said=1
    fi
    sleep "$APT_LOCK_RETRY_SECONDS"
  done
}

main() {
  local mode="" check=""
  for arg in "$@"; do
    case $arg in
      --check) check=1 ;;
      --browser | --bench) mode=$arg ;;
      *)
        echo "usage: $0 [--browser|--bench] [--check]" >&2
        exit 2
        ;;
    esac
  done
  local missing=()
  mapfile -t missing < <(missing_packages "$mode")
  [[ ${#missing[@]} -eq 0 ]] && exit 0
  if [[ -n $check ]]; then
    printf '%s\n' "${missing[@]}"
    exit 1
  fi

  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_get update -qq
    # Not quiet: apt then says when it waits for the dpkg lock ("Waiting for cache lock").
    apt_get install -y --no-install-recommends "${missing[@]}"
  else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with your package manager, e.g.: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
