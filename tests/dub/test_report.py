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


def test_a_window_in_parts_lists_them_and_sums_them_up():
    window = Window(0, 800, 9000, (Span(1000, 3000), Span(4000, 8000)))
    parts = [Placement(0, 4000, 7600, 8900, 3900, 1.09, 0, part=1, offset_ms=2100),
             Placement(0, 1000, 2900, 3900, 2000, 1.0, 100, part=0, offset_ms=0)]
    facts = DubFacts(Path("in.mp4"), Path("in.de.mp4"), (), "de", "Cherry", "replace", 1.3, 9000, "atempo", None,
                     None, ())
    report = build_report(facts, [Translation(window, TranslationResult("Eins. Zwei."))], parts)
    (entry,) = report["windows"]
    assert [(p["part"], p["onset_ms"], p["clip_start_ms"], p["dub_end_ms"], p["speed"], p["overflow_ms"])
            for p in entry["parts"]] == [(0, 1000, 0, 2900, 1.0, 100), (1, 4000, 2100, 7600, 1.09, 0)]
    assert (entry["dub_start_ms"], entry["dub_end_ms"], entry["slot_end_ms"]) == (1000, 7600, 8900)
    assert (entry["clip_ms"], entry["speed"], entry["overflow_ms"]) == (5900, 1.09, 100)
    summary = report["summary"]  # clips, sped_up and overflowed count windows; parts counts parts
    assert (summary["clips"], summary["sped_up"], summary["overflowed"], summary["parts"]) == (1, 1, 1, 2)
