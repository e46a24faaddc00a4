"""One language of a dub from text (``dubber dub --subtitles FILE``): the given cues voiced one request each
by the backend family's text to speech, each fitted into its own cue's span, over the run's one analysis.

When the same input was dubbed into this language before, with this backend and voice, and every window's
answer is still in the cache, that dub is the *earlier dub*: its speech and its cues are rebuilt from the
cache exactly as the run made them (no request), the given cues are matched against its cues
(``dubber.voicing``), and only new or edited lines are voiced. Lines whose words did not change keep
their earlier speech where it was; moved ones are re-fitted. With no earlier dub, every line is voiced.

The mix is rendered once every line's speech is in (the lines are known up front, unlike windows answered
in any order), then encoded over the original as a speech dub's is.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence


from dubber.backends import BackendConfig, SpeakerSpec, TranslateRequest, make_backend, speaker_spec, text_media
from dubber.dub.clips import ClipSpool
from dubber.dub.feed import Settler
from dubber.dub.timeline import Clip, Placement, fit_among
from dubber.events import Events
from dubber.jobs.common import Analysis, analyse, cast_speakers, window_media
from dubber.jobs.dub_language import (LanguagePass, MixEncoder, Rendered, dub_request, encode_spec, track_end_ms,
                                     warn_overflow)
from dubber.languages import Lang
from dubber.media.capability import choose, decode_needs
from dubber.media.mux import OutputKind
from dubber.media.probe import probe
from dubber.models import Cue, Span, Translation, Turn, Window
from dubber.speakers.turns import dominant, speaker_of
from dubber.subtitles.cues import CueOptions, CueTrack, build_cue_track
from dubber.subtitles.linebreak import break_lines, clean_text
from dubber.subtitles.profiles import CJK, profile
from dubber.subtitles.reader import SubtitleFile, read_subtitles, spoken_text
from dubber.translate.fetch import FetchPlan, Fetcher, FetchStats, cached_answers
from dubber.voicing.match import match_cues
from dubber.voicing.plan import EarlierDub, Line, VoicingPlan, plan_voicing

if TYPE_CHECKING:
    from dubber.jobs.dub import DubJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Voiced:
    """What a text pass decided: each given line's fate, and where its speech is among the placements."""

    lines: tuple[Line, ...]


def speaker_config(job: DubJob) -> tuple[SpeakerSpec, BackendConfig]:
    """The text-to-speech service of the job's backend family, on the same key and endpoint: the job's own
    model when the job's backend is that service (``--backend omni --model ...``), else the service's."""
    spec = speaker_spec(job.backend.name)
    config = job.backend.config
    model = config.model if job.backend.name == spec.name else spec.default_model
    return spec, replace(config, model=model, input_mode="audio")


def speak_request(job: DubJob, lang: Lang) -> TranslateRequest:
    return TranslateRequest(target=lang, want_audio=True, voice=job.voice, task="speak")


def layout_cues(cues: Sequence[Cue], lang: str, duration_ms: int, options: CueOptions,
                turns: Sequence[Turn] = ()) -> CueTrack:
    """The given cues as the subtitle track: their own times (inside the media) and words, their lines
    broken under the language's rules; with speakers (``turns``), each marked with who talks under it."""
    lines = options.lines(lang)
    sep = "" if lines.script == CJK else " "
    ordered = dominant(turns)
    laid = []
    for cue in cues:
        start, end = max(0, min(cue.start_ms, duration_ms)), max(0, min(cue.end_ms, duration_ms))
        text = clean_text(sep.join(line.strip() for line in cue.text.splitlines()))
        if end > start and text:
            shown = break_lines(text, lines)
            speaker = speaker_of([Span(start, end)], ordered)
            laid.append(Cue(start, end, shown, ((speaker, shown),) if speaker is not None else ()))
    return CueTrack(tuple(laid), (), profile(lang))


def _earlier(job: DubJob, lang: Lang, analysis: Analysis, spool: ClipSpool, cue_options: CueOptions,
             voices: Mapping[int, str]) -> EarlierDub | None:
    """The earlier dub of this input into ``lang``, rebuilt from the cache as the run made it; None when
    the backend cannot voice speech, or any window's answer is not cached (nothing is sent)."""
    if not analysis.windows:
        return None
    backend = make_backend(job.backend.name, job.backend.config)
    mode = job.backend.config.input_mode
    plan = FetchPlan(analysis.windows, lambda w: window_media(analysis, w, mode), dub_request(job, lang), voices)
    settler = Settler(analysis.windows, analysis.duration_ms, job.fit)
    texts: list[Translation] = []
    for found in cached_answers(backend, plan, job.fetch):
        if found is None:
            log.info("%s: no earlier dub with this backend and voice in the cache: every line is voiced", lang.code)
            return None
        spooled = spool.add(found)
        settler.arrive(found.window.index, spooled.parts if spooled else ())
        texts.append(Translation(found.window, replace(found.result, audio_pcm=b"")))
    cues = build_cue_track(texts, lang.code, analysis.duration_ms, cue_options).cues
    log.info("%s: an earlier dub of %d windows and %d cues is in the cache", lang.code, len(texts), len(cues))
    return EarlierDub(cues, tuple(settler.plan()))


def _voice_lines(job: DubJob, lang: Lang, lines: Sequence[Line], base: int, spool: ClipSpool, events: Events,
                 turns: Sequence[Turn], voices: Mapping[int, str]) -> tuple[list[Clip], FetchStats]:
    """Each line's speech, one request each (cached, retried, ``--jobs`` at once), spooled as it comes;
    its clip, to end with its cue. With speakers, each line in the voice of who talks under it."""
    texts = {base + k: spoken_text(line.cue.text) for k, line in enumerate(lines)}
    ordered = dominant(turns)
    spans = {base + k: Span(line.cue.start_ms, line.cue.end_ms) for k, line in enumerate(lines)}
    windows = [Window(index, span.start_ms, span.end_ms, (span,), speaker_of([span], ordered))
               for index, span in spans.items() if texts[index]]
    spec, config = speaker_config(job)
    request = speak_request(job, lang)
    fetcher = Fetcher(spec.make(config), request, job.fetch)
    events.stage("voice", total=len(windows), unit="lines", detail=lang.code)
    clips: list[Clip] = []

    def arrived(t: Translation) -> None:
        spooled = spool.add(t)
        if spooled is not None:
            clips.extend(replace(part, end_ms=t.window.end_ms) for part in spooled.parts)

    _, stats = fetcher.collect(FetchPlan(windows, lambda w: text_media(texts[w.index]), request, voices), arrived,
                               lambda t: Translation(t.window, replace(t.result, audio_pcm=b"")), events)
    return clips, stats


def _render(job: DubJob, lang: Lang, analysis: Analysis, original: Future, spool: ClipSpool, kind: OutputKind,
            folder: Path, stretch: str, placements: Sequence[Placement], events: Events) -> Rendered:
    """The whole track, rendered front to back into the encoder (every clip is known by now)."""
    events.stage("render", total=len(placements), unit="clips", detail=lang.code)
    with MixEncoder(job, lang, spool, encode_spec(analysis, kind, folder), stretch, original) as mix:
        for placement in placements:
            for frames in mix.render.add(placement):
                mix.feed(frames)
            events.advance(1)
        for frames in mix.render.take(track_end_ms(analysis)):
            mix.feed(frames)
        return mix.finish()


def plan_language(job: DubJob, lang: Lang, given: SubtitleFile, analysis: Analysis, spool: ClipSpool,
                  voices: Mapping[int, str]) -> tuple[VoicingPlan, EarlierDub | None]:
    """Match the given cues against the earlier dub (spooling its speech), and plan: nothing is sent."""
    cue_options = job.cues.at_frame_rate(analysis.info.frame_rate)
    earlier = _earlier(job, lang, analysis, spool, cue_options, voices)
    matches = match_cues(given.cues, earlier.cues if earlier else (), lang.code)
    return plan_voicing(given.cues, matches, earlier), earlier


def text_language(job: DubJob, lang: Lang, given: SubtitleFile, analysis: Analysis, original: Future,
                  folder: Path, stretch: str, kind: OutputKind, events: Events,
                  voices: Mapping[int, str] | None = None) -> tuple[LanguagePass, Voiced]:
    """Voice ``given``'s lines in ``lang`` (see the module docstring) and mix them, in ``folder``; with
    speakers, each line in its speaker's voice (``voices``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cue_options = job.cues.at_frame_rate(analysis.info.frame_rate)
    stereo = analysis.info.channels >= 2
    spool = ClipSpool(folder / "clips", channels=2 if stereo else 1)
    plan, _ = plan_language(job, lang, given, analysis, spool, voices or {})
    base = max((w.index for w in analysis.windows), default=-1) + 1
    voiced, fetched = _voice_lines(job, lang, plan.to_voice(), base, spool, events, analysis.turns, voices or {})
    placements = fit_among(plan.pinned, [*plan.moved, *voiced], analysis.duration_ms, job.fit)
    warn_overflow(f"{lang.code}: " if job.extra_targets else "", placements, job.fit.max_speed)
    rendered = _render(job, lang, analysis, original, spool, kind, folder, stretch, placements, events)
    shutil.rmtree(spool.folder, ignore_errors=True)  # its speech is in the mix now: free the disk
    track = layout_cues(given.cues, lang.code, analysis.duration_ms, cue_options, analysis.turns)
    # the lines voiced anew are numbered after the windows (as _voice_lines spooled them)
    spoken = {line.number: base + k for k, line in enumerate(plan.to_voice())}
    lines = tuple(replace(line, parts=((spoken[line.number], 0),)) if line.number in spoken else line
                  for line in plan.lines)
    return LanguagePass(lang, (), fetched, tuple(placements), track, rendered, folder), Voiced(lines)


def preview(job: DubJob) -> tuple[VoicingPlan, ...]:
    """What ``run_dub`` would do with the job's subtitles, each language's plan, sending nothing: probe,
    decode, windows, the earlier dub from the cache, the match (``dubber plan --subtitles``)."""
    info = probe(job.input)
    choose(decode_needs(), "decode the audio")
    given = [read_subtitles(path) for path in job.subtitles]
    with tempfile.TemporaryDirectory(prefix="dubber-") as tmp:
        analysis = analyse(info, Path(tmp), job.vad_method, job.windows, speakers=job.speakers)
        speakers = cast_speakers(job.backend.name, dict(job.voices), job.voice, analysis)
        voices = {s.number: s.voice for s in speakers if s.voice}
        plans = []
        for lang, file in zip(job.targets, given):
            spool = ClipSpool(Path(tmp) / lang.code, channels=2 if info.channels >= 2 else 1)
            plans.append(plan_language(job, lang, file, analysis, spool, voices)[0])
    return tuple(plans)
