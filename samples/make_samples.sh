#!/usr/bin/env bash
# Regenerates everything in samples/. Needs espeak-ng, sox and ffmpeg (Debian: apt-get install espeak-ng sox;
# ffmpeg can be the one the imageio-ffmpeg wheel ships). The outputs are committed, so tests need none of these.
set -euo pipefail
cd "$(dirname "$0")"
FFMPEG=${FFMPEG:-$(python3 -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')}
mkdir -p speech
say() {  # say NAME VOICE TEXT: one utterance, silence trimmed at both ends, 16 kHz mono FLAC
  espeak-ng -v "$2" -s 150 -w "/tmp/$1.wav" "$3"
  sox "/tmp/$1.wav" -r 16000 -c 1 "speech/$1.flac" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
  rm "/tmp/$1.wav"
}
say en01 en-us "The weather today is bright and clear."
say en02 en-us "We will walk along the river after lunch."
say en03 en-us "Please bring a warm coat and some water."
say en04 en-us "The museum opens at nine in the morning."
say en05 en-us "Trains to the city leave every twenty minutes, so there is no need to hurry."
say en06 en-us "Thank you."
say de01 de "Das Wetter ist heute schön und klar."
say es01 es "Mañana vamos a visitar el mercado central."
say zh01 cmn "今天天气很好，我们去公园散步吧。"

# The demo clip: three English sentences with pauses (0.8 s lead-in, 0.9 s and 1.4 s between, 1.0 s tail),
# over a small test pattern.
sox speech/en01.flac /tmp/d1.wav pad 0.8 0.9
sox speech/en02.flac /tmp/d2.wav pad 0 1.4
sox speech/en05.flac /tmp/d3.wav pad 0 1.0
sox /tmp/d1.wav /tmp/d2.wav /tmp/d3.wav /tmp/demo_paced.wav
DUR=$(soxi -D /tmp/demo_paced.wav)
"$FFMPEG" -hide_banner -loglevel error -y \
  -f lavfi -t "$DUR" -i "testsrc2=size=320x180:rate=10" -i /tmp/demo_paced.wav \
  -map 0:v -map 1:a -c:v libx264 -preset veryslow -crf 36 -pix_fmt yuv420p \
  -c:a aac -b:a 48k -ar 16000 -metadata:s:a:0 language=eng -movflags +faststart sample.mp4
rm -f /tmp/d1.wav /tmp/d2.wav /tmp/d3.wav /tmp/demo_paced.wav
