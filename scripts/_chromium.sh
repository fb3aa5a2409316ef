# Sourced by scripts/test: make sure Debian's Chromium (and a Chinese font, so the screenshots show
# the pages' Chinese labels rather than empty boxes) is installed for the browser tests.
# Playwright drives it through executable_path (tests/browser/conftest.py): its own browser download
# is not reachable from our machines, Debian's package is. apt-get needs root, which CI and the
# development machines are; elsewhere install `chromium` yourself or set IPX_CHROMIUM to a binary.

ensure_chromium() {
  local binary="${IPX_CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$binary" ] && { [ -n "${IPX_CHROMIUM:-}" ] || [ -d /usr/share/fonts/truetype/wqy ]; }; then
    return 0
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "ipx: $binary is missing and apt-get needs root: install Debian's chromium, or set IPX_CHROMIUM" >&2
    return 0
  fi
  echo "ipx: installing Debian's chromium and fonts-wqy-zenhei for the browser tests (first run only)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-zenhei >/dev/null 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-zenhei >&2
  }
}
