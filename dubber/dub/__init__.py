"""Translated speech → a dub track: ``timeline`` (the pure fitting plan), ``duck`` (the original's gain
under the dub), ``clips`` (each answer's speech trimmed and spooled to disk as it arrives), ``render``
(the track and envelope written front to back) and ``report`` (what the run decided, as JSON)."""
