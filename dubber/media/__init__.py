"""Media in and out: the one place that starts ffmpeg (``tool``) or opens containers (``probe``).

``probe`` reads what a file holds; ``audio`` decodes the input's audio once; ``loudness`` measures and
matches EBU R128 loudness; ``stretch`` speeds clips up without changing their pitch; ``mux`` builds the
final pass that mixes the dub and writes the output file; ``capability`` knows what each ffmpeg binary can
do and chooses the one a run uses. Every ffmpeg command is a plain argument list from a pure function, run
by ``tool.run_ffmpeg``.
"""
