"""Getting every window translated, the same way for every backend: ``fetch`` (concurrency, results in
window order, stopping promptly), ``retry`` (backoff on passing faults) and ``cache`` (no window paid for
twice)."""
