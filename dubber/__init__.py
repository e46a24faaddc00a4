"""dubber: translate a video's speech into subtitles and a dubbed audio track."""

__version__ = "0.1.0"

import time as _time

# When this process began to run dubber (the interpreter's own start-up, a few tens of ms, is before it):
# a live run's timeline is anchored here, so its start-up counts in its latency.
STARTED = _time.monotonic()
