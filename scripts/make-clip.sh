#!/usr/bin/env bash
# Makes the origin's built-in clip: 12 s of H.264 (yuv420p) + AAC in 2 s MPEG-TS
# segments, small enough to embed in the binary. Needs ffmpeg.
# Usage: make-clip.sh [OUT_DIR] [SEGMENT_SECONDS (2)] [FRAMES_PER_SECOND (25)]
# (a keyframe starts every segment, so SEGMENT_SECONDS × FRAMES_PER_SECOND must
# be whole; web/ab_test.go cuts 0.5 s segments at 24 frames a second).
set -euo pipefail
out="${1:-$(dirname "$0")/../origin/clip}"
seg="${2:-2}"
fps="${3:-25}"
gop=$(awk -v s="$seg" -v r="$fps" 'BEGIN { g = s * r; if (g < 1 || g != int(g)) exit 1; print g }') ||
  { echo "make-clip.sh: $seg s at $fps frames a second is not a whole number of frames" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out"/*.ts "$out"/index.m3u8
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=426x240:rate=$fps:duration=12" \
  -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=44100:duration=12" \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -b:v 350k -maxrate 400k -bufsize 400k \
  -g "$gop" -keyint_min "$gop" -sc_threshold 0 \
  -c:a aac -b:a 64k -ac 2 \
  -f hls -hls_time "$seg" -hls_list_size 0 -hls_playlist_type vod \
  -hls_segment_filename "$out/seg%d.ts" "$out/index.m3u8"
rm -f "$out/index.m3u8"  # the origin writes its own live playlist
ls -l "$out"
