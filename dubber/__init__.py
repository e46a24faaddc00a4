"""dubber: translate a video's speech into subtitles and a dubbed audio track."""

__version__ = "0.1.0"
