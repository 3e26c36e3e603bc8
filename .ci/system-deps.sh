#!/usr/bin/env bash
# System packages the tests use, from Debian's packages (no browser download): chromium for the
# browser tests (driven by the playwright Python package), LibreOffice Calc/Writer (headless, no GUI)
# for the office tests. Installed when this runs as root with apt; otherwise the tests that need them
# say how to install them (and are never skipped under CI=true). Idempotent and silent when everything
# is already installed.
set -euo pipefail
PACKAGES=(fonts-dejavu-core chromium libreoffice-calc-nogui libreoffice-writer-nogui)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installation des paquets système : ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Paquets système absents : ${missing[*]} (sudo apt-get install ${missing[*]})"
fi
