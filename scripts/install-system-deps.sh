#!/usr/bin/env bash
# Installs what Heldar needs from Debian's packages when it is missing.
#   run  : ffmpeg/ffprobe
#   test : + PostgreSQL server (throwaway test cluster), GStreamer's RTSP server (test camera) and
#          Chromium (the console's browser tests drive /usr/bin/chromium through playwright-core)
# As root it runs apt-get; otherwise it prints the command to run and fails.
set -euo pipefail
mode=${1:-run}

missing=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
if [ "$mode" = test ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if ! /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer" >/dev/null 2>&1 \
    || ! command -v gst-inspect-1.0 >/dev/null 2>&1 || ! gst-inspect-1.0 x264enc >/dev/null 2>&1; then
    missing+=(gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-tools gstreamer1.0-plugins-base
      gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x)
  fi
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "heldar: missing system packages: ${missing[*]}" >&2
  echo "heldar: install them as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "heldar: installing ${missing[*]} from Debian's packages…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "heldar: system packages ready"
