#!/usr/bin/env bash
# Debian packages some tests use: chromium (dashboard in a real browser), prometheus (promtool
# and a real server scraping /metrics), postgresql (the store on PostgreSQL), libgl1 (OpenCV),
# fonts-wqy-microhei (Chinese text in the report's charts).
# Installs what is missing when run as root with apt-get; otherwise says what the tests will skip.
set -uo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || missing+=(libgl1)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "warning: could not install ${missing[*]}; the tests that need them will skip"
else
  echo "note: not root or no apt-get; tests needing ${missing[*]} will skip (install them to run those)"
fi
exit 0
