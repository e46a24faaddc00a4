"""The dub report (pure): every window with its fit, and the summary."""
from __future__ import annotations

from pathlib import Path

from dubber.dub.report import DubFacts, build_report, to_json
from dubber.dub.timeline import Placement
from dubber.models import Loudness, Span, Translation, TranslationResult, Window


def test_report_lists_every_window_with_its_fit():
    windows = [Window(0, 800, 4000, (Span(1000, 3800),)), Window(1, 5000, 7000, (Span(5200, 6800),))]
    translations = [Translation(windows[0], TranslationResult("Hola.")), Translation(windows[1], TranslationResult(""))]
    placements = [Placement(0, 1000, 4800, 4900, 4500, 1.19, 0)]
    facts = DubFacts(Path("in.mp4"), Path("in.es.mp4"), (Path("in.es.srt"),), "es", "Cherry", "duck", 1.3, 9000,
                     "rubberband", Loudness(-20, -3, 6, -30), None, ("note",))
    report = build_report(facts, translations, placements)
    first, second = report["windows"]
    assert (first["onset_ms"], first["dub_start_ms"], first["dub_end_ms"], first["speed"]) == (1000, 1000, 4800, 1.19)
    assert first["text"] == "Hola." and first["clip_ms"] == 4500
    assert second["clip_ms"] == 0 and second["speed"] is None
    assert report["summary"]["sped_up"] == 1 and report["loudness"]["original_lufs"] == -20
    assert to_json(report).endswith("}\n")
