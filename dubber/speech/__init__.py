"""Where the speech is: ``vad`` finds it in the decoded audio, ``windows`` plans the stretches sent to the
service, one request each (a pure planner)."""
