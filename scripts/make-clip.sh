#!/usr/bin/env bash
# Makes the origin's built-in clip: 12 s of H.264 (yuv420p) + AAC in 2 s MPEG-TS
# segments, small enough to embed in the binary. Needs ffmpeg.
set -euo pipefail
out="${1:-$(dirname "$0")/../origin/clip}"
mkdir -p "$out"
rm -f "$out"/*.ts "$out"/index.m3u8
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=426x240:rate=25:duration=12" \
  -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=44100:duration=12" \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -b:v 350k -maxrate 400k -bufsize 400k \
  -g 50 -keyint_min 50 -sc_threshold 0 \
  -c:a aac -b:a 64k -ac 2 \
  -f hls -hls_time 2 -hls_list_size 0 -hls_playlist_type vod \
  -hls_segment_filename "$out/seg%d.ts" "$out/index.m3u8"
rm -f "$out/index.m3u8"  # the origin writes its own live playlist
ls -l "$out"
