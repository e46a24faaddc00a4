"""``dubber live``: a live source → streaming speech detection that closes each window at the first pause
it allows → each window translated at once (``dubber.translate``, its answers written in order) → rolling
outputs (a WebVTT file appended cue by cue, an HLS subtitle rendition). It reuses the stages of the file
jobs and adds only what a stream needs.

    source    ffmpeg reading the stream (or a file at real speed), reconnected when a network source drops
    cutter    streaming speech detection: windows closed as soon as the speech allows (pure, stateful)
    outputs   the rolling WebVTT file, the HLS subtitle playlist and segments, the final SRT
"""
