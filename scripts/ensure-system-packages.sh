#!/usr/bin/env bash
# Installs the system packages pip cannot bring, when missing: Pango/HarfBuzz for WeasyPrint
# (PDF invoices); with --browser, Debian's chromium for the browser tests; with --bench, wrk.
# As root on Debian it uses apt-get; elsewhere it stops and says exactly what to install.
set -euo pipefail

missing=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
have_lib 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
have_lib 'libharfbuzz-subset.so.0' || missing+=(libharfbuzz-subset0)
if [[ "${1:-}" == "--browser" ]] && [[ ! -x /usr/bin/chromium ]]; then
  missing+=(chromium)
fi
if [[ "${1:-}" == "--bench" ]] && ! command -v wrk >/dev/null 2>&1; then
  missing+=(wrk)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with your package manager, e.g.: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
