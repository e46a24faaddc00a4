"""The commands, assembled from the stages: ``subtitles`` and ``dub``, on the shared first stages in
``common`` (probe, decode, speech, windows, translate), writing files through ``outputs``."""
