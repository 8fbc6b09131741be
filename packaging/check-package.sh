#!/usr/bin/env bash
# Checks a built meterdesk .deb without installing it (scripts/package --check):
# unpacks it into a scratch root with dpkg -x, runs the packaged binary from there
# (--version; --headless until "listening on", then SIGTERM must exit 0), validates
# the desktop entry and AppStream metainfo, and runs lintian, which must report no
# error (warnings are printed, not fatal). Ends with "N passed, N failed".
set -uo pipefail
deb="${1:?usage: packaging/check-package.sh FILE.deb}"
scratch="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

echo "== $(basename "$deb")"
dpkg-deb --field "$deb" Package Version Architecture Depends Installed-Size

depends="$(dpkg-deb --field "$deb" Depends)"
if grep -q "libqt6core6" <<<"$depends" && grep -q "libc6" <<<"$depends"; then
  ok "Depends computed by dpkg-shlibdeps"
else
  bad "Depends lacks the computed libraries: $depends"
fi

root="$scratch/root"
dpkg -x "$deb" "$root" || { bad "dpkg -x"; echo "$passed passed, $((failed)) failed"; exit 1; }
id=dev.meterdesk.Meterdesk
for f in usr/bin/meterdesk \
         usr/share/applications/$id.desktop \
         usr/share/metainfo/$id.metainfo.xml \
         usr/share/icons/hicolor/scalable/apps/$id.svg \
         usr/share/icons/hicolor/48x48/apps/$id.png \
         usr/share/icons/hicolor/128x128/apps/$id.png \
         usr/share/icons/hicolor/256x256/apps/$id.png \
         usr/share/man/man1/meterdesk.1.gz \
         usr/lib/systemd/user/meterdesk-headless.service \
         usr/share/doc/meterdesk/copyright \
         usr/share/doc/meterdesk/changelog.gz; do
  if [ -s "$root/$f" ]; then ok "/$f"; else bad "/$f missing"; fi
done
for size in 48 128 256; do
  png="$root/usr/share/icons/hicolor/${size}x${size}/apps/$id.png"
  if file "$png" | grep -q "PNG image data, $size x $size"; then ok "icon ${size}px"; else bad "icon ${size}px: $(file -b "$png")"; fi
done

bin="$root/usr/bin/meterdesk"
export HOME="$scratch/home" XDG_DATA_HOME="$scratch/home/.local/share" QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME"
version="$("$bin" --version 2>&1)"
rc=$?
echo "meterdesk --version: $version"
if [ $rc -eq 0 ] && [[ "$version" =~ ^meterdesk\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  ok "--version"
else
  bad "--version (exit $rc)"
fi

"$bin" --headless --listen 127.0.0.1:0 --database "$scratch/workspace.db" >"$scratch/out" 2>"$scratch/err" &
pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^listening on //p' "$scratch/out" | head -n1)"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$url" ]; then
  ok "--headless: listening on $url"
  if command -v curl >/dev/null; then
    health="$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")"
    if [ "$health" = 200 ]; then ok "GET /healthz -> 200"; else bad "GET /healthz -> $health"; fi
  fi
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  pid=""
  if [ $rc -eq 0 ]; then ok "--headless: SIGTERM -> exit 0"; else bad "--headless: SIGTERM -> exit $rc"; fi
else
  bad "--headless never printed \"listening on\": $(cat "$scratch/out" "$scratch/err")"
fi

if command -v desktop-file-validate >/dev/null; then
  if desktop-file-validate "$root/usr/share/applications/$id.desktop"; then ok "desktop-file-validate"; else bad "desktop-file-validate"; fi
fi
if command -v appstreamcli >/dev/null; then
  if appstreamcli validate --no-net "$root/usr/share/metainfo/$id.metainfo.xml"; then ok "appstreamcli validate"; else bad "appstreamcli validate"; fi
fi

if command -v lintian >/dev/null; then
  echo "== lintian"
  # As root lintian only adds a notice about it; errors make it exit non-zero.
  lintian --fail-on error "$deb" 2>&1 | grep -v "^N:.*running with root privileges" | tee "$scratch/lintian"
  rc=${PIPESTATUS[0]}
  summary="$(grep -c '^E:' "$scratch/lintian") errors, $(grep -c '^W:' "$scratch/lintian") warnings"
  if [ "$rc" -eq 0 ]; then ok "lintian: $summary"; else bad "lintian: $summary (exit $rc)"; fi
else
  bad "lintian not installed"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
