"""The final ffmpeg pass as a pure argument list: loudness-match each dub, duck or replace the original
under it, mix, and mux with everything of the input the container can hold, in one run.

Output streams, in order: the input's video (copied bit for bit), one dub mix per target language in
``--to`` order (the first default, each tagged with its language), the input's audio tracks in its order
(copied when the container can hold their codec), one new subtitle track per language in the same order
(soft tracks in the container's own codec), the input's subtitle tracks, its attachments; then its
chapters and global metadata. What each kind holds is ``OutputKind.holds`` and what becomes of each input
stream is ``dubber.media.carry``'s plan. Kinds that hold a single stream (wav, mp3, flac) get the one dub
mix alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dubber.errors import OptionError
from dubber.media.audio import raw_input_args
from dubber.media.carry import Carried, CarryPlan, Holds

ENVELOPE_RATE = 1000  # Hz: the duck envelope has one value per ms, ffmpeg resamples it to the mix's rate
STANDARD_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})

_MP4_COPY = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"})


@dataclass(frozen=True)
class OutputKind:
    """What one output file type can hold, and how the dub is encoded into it."""

    muxer: str
    codec: str  # encoder of the dub mix
    quality: tuple[str, str] | None = None  # ("-b", "160k") or ("-q", "5"); VBR where a fixed rate may not fit
    subtitle_codec: str | None = None  # None: subtitles only as sidecar files
    video: bool = False
    multi_audio: bool = True  # can hold more than one audio stream (the original, a dub per language)
    copyable: frozenset[str] | None = None  # original codecs it can hold as they are; None: any
    rate: int | None = None  # a rate the codec requires
    extra: tuple[str, ...] = ()
    subtitle_copyable: frozenset[str] | None = None  # subtitle codecs held as they are; None: any
    attachments: bool = False  # can hold attachments (fonts): Matroska
    video_copyable: frozenset[str] | None = None  # video codecs it can hold; None: any

    def holds(self) -> Holds:
        """What this kind can hold of an input's streams (``dubber.media.carry``)."""
        return Holds(video=self.video, multi_audio=self.multi_audio, audio_copyable=self.copyable,
                     audio_codec=self.codec, subtitle_codec=self.subtitle_codec,
                     subtitle_copyable=self.subtitle_copyable, attachments=self.attachments,
                     video_copyable=self.video_copyable)

    @property
    def subtitle_sidecar(self) -> str:
        """Which sidecar (srt or vtt) feeds the embedded track."""
        return "vtt" if self.subtitle_codec == "webvtt" else "srt"


_MOV_TEXT = frozenset({"mov_text"})
_MP4 = OutputKind("mp4", "aac", ("-b", "160k"), "mov_text", video=True, copyable=_MP4_COPY, extra=("-movflags", "+faststart"),
                  subtitle_copyable=_MOV_TEXT)
# Opus for Matroska: aac there carries its encoder padding into the stream's length (no edit list),
# which would make the output ~60 ms longer than the input.
_MKV = OutputKind("matroska", "libopus", ("-b", "128k"), "subrip", video=True, rate=48000, attachments=True)
WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
KINDS: dict[str, OutputKind] = {
    "mp4": _MP4,
    "m4v": _MP4,
    "mov": OutputKind("mov", "aac", ("-b", "160k"), "mov_text", video=True, copyable=_MP4_COPY | {"pcm_s16le", "pcm_s24le"},
                      extra=("-movflags", "+faststart"), subtitle_copyable=_MOV_TEXT),
    "mkv": _MKV,
    "webm": OutputKind("webm", "libopus", ("-b", "128k"), "webvtt", video=True, copyable=frozenset({"opus", "vorbis"}),
                       rate=48000, subtitle_copyable=frozenset({"webvtt"}), video_copyable=WEBM_VIDEO),
    "mka": OutputKind("matroska", "libopus", ("-b", "128k"), rate=48000, attachments=True),
    "m4a": OutputKind("ipod", "aac", ("-b", "160k"), copyable=frozenset({"aac", "alac"}), extra=("-movflags", "+faststart")),
    # libvorbis and LAME refuse bit rates their sample rate cannot carry (160k mono at 16 kHz): use VBR
    "ogg": OutputKind("ogg", "libvorbis", ("-q", "5"), copyable=frozenset({"vorbis", "opus", "flac"})),
    "mp3": OutputKind("mp3", "libmp3lame", ("-q", "2"), multi_audio=False),
    "wav": OutputKind("wav", "pcm_s16le", multi_audio=False),
    "flac": OutputKind("flac", "flac", multi_audio=False),
}


def output_kind(path: Path) -> OutputKind:
    kind = KINDS.get(path.suffix.lower().lstrip("."))
    if kind is None:
        raise OptionError(f"cannot write a dub as {path.suffix or 'a file without a suffix'} "
                          f"(choose one of: {', '.join('.' + k for k in KINDS)})")
    return kind


def default_suffix(input_path: Path, has_video: bool) -> str:
    """The input's own kind when dubber can write it, else Matroska, which holds any codec."""
    suffix = input_path.suffix.lower().lstrip(".")
    return suffix if suffix in KINDS else ("mkv" if has_video else "mka")


@dataclass(frozen=True)
class Track:
    language: str  # ISO 639-2, e.g. "chi"; "und" when unknown
    title: str


@dataclass(frozen=True)
class DubMix:
    """One language's part of the final pass: its rendered dub, the original's duck envelope under it
    (None: replace, the original is muted), its subtitles, and the tags of its two new tracks."""

    pcm: Path  # mono PCM16 at MuxSpec.dub_rate, as long as the media
    envelope: Path | None  # float32 gains at ENVELOPE_RATE
    subtitles: Path | None  # sidecar to embed; None when the kind cannot hold subtitles or there are no cues
    audio: Track
    subtitle: Track
    loudnorm: str = ""  # the loudness-matching filter applied to the dub (a gain), "" for none


@dataclass(frozen=True)
class MuxSpec:
    """Everything the final pass needs: one ``DubMix`` per language, in ``--to`` order (the first is the
    default track). Each mix runs the original through it (muted for replace), so every dub track ends
    exactly where the original audio does; the original is decoded once and split between them."""

    input: Path
    audio_index: int  # absolute index of the original audio stream
    original_codec: str
    dubs: tuple[DubMix, ...]
    dub_rate: int
    output: Path
    kind: OutputKind
    rate: int  # of the dub mixes
    stereo: bool
    original: Track | None  # the chosen audio's tags in the output; None: the input's audio is not kept
    carry: CarryPlan = CarryPlan((), (), (), (), ())  # the input's streams the output holds, and how


@dataclass(frozen=True)
class _Inputs:
    """ffmpeg's inputs after the original (0): each mix's dub and envelope, then the subtitle files."""

    args: list[str]
    dub: tuple[int, ...]  # input index of each mix's dub
    envelope: tuple[int | None, ...]
    subtitles: tuple[int | None, ...]  # None: that mix embeds no subtitles


def mix_rate(kind: OutputKind, original_rate: int) -> int:
    if kind.rate is not None:
        return kind.rate
    return original_rate if original_rate in STANDARD_RATES else 48000


def _label(name: str, k: int, count: int) -> str:
    """A filter pad's label: ``[mix]`` for the one mix of a single-language dub, ``[mix0]``, ``[mix1]``, ...
    for several."""
    return f"[{name}]" if count == 1 else f"[{name}{k}]"


def _inputs(spec: MuxSpec) -> _Inputs:
    args, next_input = ["-i", str(spec.input)], 1
    dub: list[int] = []
    envelope: list[int | None] = []
    for mix in spec.dubs:
        args += raw_input_args(mix.pcm, spec.dub_rate)
        dub.append(next_input)
        next_input += 1
        if mix.envelope is not None:
            args += raw_input_args(mix.envelope, ENVELOPE_RATE, "f32le")
        envelope.append(next_input if mix.envelope is not None else None)
        next_input += mix.envelope is not None
    subtitles: list[int | None] = []
    for mix in spec.dubs:
        embedded = mix.subtitles is not None and spec.kind.subtitle_codec is not None
        if embedded:
            args += ["-i", str(mix.subtitles)]
        subtitles.append(next_input if embedded else None)
        next_input += embedded
    return _Inputs(args, tuple(dub), tuple(envelope), tuple(subtitles))


def build_filter_graph(spec: MuxSpec, inputs: _Inputs | None = None) -> str:
    """The ``-filter_complex`` graph; its outputs are ``[mix]`` (one language) or ``[mix0]``, ``[mix1]``, ...
    (several: the original is decoded once and split between the mixes)."""
    inputs = inputs or _inputs(spec)
    layout = "stereo" if spec.stereo else "mono"
    up = ",pan=stereo|c0=c0|c1=c0" if spec.stereo else ""  # explicit: ffmpeg's default upmix is -3 dB
    fmt = f"aformat=sample_fmts=fltp:channel_layouts={layout}"
    count = len(spec.dubs)
    split = "" if count == 1 else f",asplit={count}" + "".join(_label("orig", k, count) for k in range(count))
    # first_pts=0 pads late-starting original audio, so the mix lines up with the dub (which starts at 0)
    parts = [f"[0:{spec.audio_index}]aresample={spec.rate}:first_pts=0,{fmt}{split or '[orig]'}"]
    for k, mix in enumerate(spec.dubs):
        orig, dub, env, bed = (_label(name, k, count) for name in ("orig", "dub", "env", "bed"))
        dub_chain = ",".join(f for f in (mix.loudnorm, f"aresample={spec.rate}") if f)
        parts.append(f"[{inputs.dub[k]}:a]{dub_chain}{up},{fmt}{dub}")
        if inputs.envelope[k] is not None:
            parts += [f"[{inputs.envelope[k]}:a]aresample={spec.rate}{up},{fmt}{env}", f"{orig}{env}amultiply{bed}"]
        else:
            parts.append(f"{orig}volume=0{bed}")
        parts.append(f"{bed}{dub}amix=inputs=2:duration=first:normalize=0{_label('mix', k, count)}")
    return ";".join(parts)


def _quality(kind: OutputKind, stream: int) -> list[str]:
    return [f"{kind.quality[0]}:a:{stream}", kind.quality[1]] if kind.quality else []


# QuickTime (.mov) stores a language as a Macintosh code: ffmpeg finds it only by the bibliographic ISO
# 639-2 code where that differs from the terminology one, and drops the tag of any other.
_MOV_LANGUAGES = {"deu": "ger", "zho": "chi", "ell": "gre"}


def _tags(spec: str, track: Track, disposition: str, kind: OutputKind) -> list[str]:
    language = _MOV_LANGUAGES.get(track.language, track.language) if kind.muxer == "mov" else track.language
    return [f"-metadata:s:{spec}", f"language={language}", f"-metadata:s:{spec}", f"title={track.title}",
            f"-disposition:{spec}", disposition]


def _carried_audio(spec: MuxSpec) -> list[str]:
    """The input's audio tracks after the dubs: copied or re-encoded, the chosen one tagged as the original."""
    args: list[str] = []
    for k, carried in enumerate(spec.carry.audio, start=len(spec.dubs)):
        args += ["-map", f"0:{carried.stream.index}", f"-c:a:{k}", carried.codec or "copy"]
        args += _quality(spec.kind, k) if carried.codec else []
        if carried.stream.index == spec.audio_index and spec.original is not None:
            args += _tags(f"a:{k}", spec.original, carried.dispositions(), spec.kind)
        else:
            args += [*_own_tags(f"a:{k}", carried), f"-disposition:a:{k}", carried.dispositions()]
    return args


def _own_tags(spec: str, carried: Carried) -> list[str]:
    """A carried stream's own language and title, written out: containers name them differently (mp4 keeps
    a title as "name"), so ffmpeg's copy of the tags alone can lose them."""
    tags = []
    if carried.stream.language:
        tags += [f"-metadata:s:{spec}", f"language={carried.stream.language}"]
    if carried.stream.title:
        tags += [f"-metadata:s:{spec}", f"title={carried.stream.title}"]
    return tags


def _carried_rest(spec: MuxSpec, first_subtitle: int) -> list[str]:
    """The input's subtitle tracks (after the new ones), its attachments, chapters and global metadata."""
    args: list[str] = []
    for k, carried in enumerate(spec.carry.subtitles, start=first_subtitle):
        args += ["-map", f"0:{carried.stream.index}", f"-c:s:{k}", carried.codec or "copy",
                 *_own_tags(f"s:{k}", carried), f"-disposition:s:{k}", carried.dispositions()]
    for k, carried in enumerate(spec.carry.attachments):
        args += ["-map", f"0:{carried.stream.index}", f"-c:t:{k}", "copy"]
    return [*args, "-map_chapters", "0", "-map_metadata", "0"]


def build_mux_args(spec: MuxSpec) -> list[str]:
    """ffmpeg arguments for the whole final pass (pure: tests read them without running anything)."""
    kind, inputs, count = spec.kind, _inputs(spec), len(spec.dubs)
    args = [*inputs.args, "-filter_complex", build_filter_graph(spec, inputs)]
    for k, carried in enumerate(spec.carry.video):
        args += ["-map", f"0:{carried.stream.index}", f"-c:v:{k}", "copy"]
    for k, mix in enumerate(spec.dubs):
        args += ["-map", _label("mix", k, count), f"-c:a:{k}", kind.codec, *_quality(kind, k)]
        args += _tags(f"a:{k}", mix.audio, "default" if k == 0 else "0", kind)
    args += _carried_audio(spec)
    subtitle = 0
    for mix, index in zip(spec.dubs, inputs.subtitles):
        if index is not None:
            args += ["-map", f"{index}:s", f"-c:s:{subtitle}", kind.subtitle_codec,
                     *_tags(f"s:{subtitle}", mix.subtitle, "0", kind)]
            subtitle += 1
    args += _carried_rest(spec, subtitle)
    return [*args, *kind.extra, "-f", kind.muxer, str(spec.output)]
