#!/usr/bin/env bash
# System packages some tests need (run as root on Debian; CI does): namespace tools and Chromium.
set -euo pipefail
need=()
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
command -v chromium >/dev/null || need+=(chromium)  # for the browser test (Playwright drives it)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "warning: missing ${need[*]}; the tests that need them will fail under CI=true" >&2
  fi
fi
