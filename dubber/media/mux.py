"""The dub's two ffmpeg passes as pure argument lists. Each language's mix is encoded while its windows are
translated (``build_encode_args``: the dub, fed on stdin as it is rendered, over the original ducked or
muted under it); the final pass (``build_mux_args``) then copies every mix into one file with everything
of the input the container can hold, so nothing is encoded after the last answer but what the container
cannot hold as it is (converted subtitles, an original audio codec it cannot carry).

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
from dubber.media.carry import Carried, CarryPlan, Holds

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
    coder: tuple[str, ...] = ()  # encoder options of the dub mix

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
# ffmpeg's AAC encoder: its "fast" coder encodes a dub mix in about half the time of the default "twoloop"
# (10 minutes of 48 kHz stereo: 11 s of CPU against 20 s, more than the requests' own pace at an hour),
# in fewer bytes and with less error (57 dB SNR against 35, measured on a dub mix: issue 11's note)
_FAST_AAC = ("-aac_coder", "fast")
# ffmpeg before 6.0 muxes FLAC into MP4 only when told that experimental features are allowed: the
# format is standard, ffmpeg's muxer was new then. Newer releases ignore the flag here.
_QUICKTIME_EXTRA = ("-movflags", "+faststart", "-strict", "experimental")
_MP4 = OutputKind("mp4", "aac", ("-b", "160k"), "mov_text", video=True, copyable=_MP4_COPY, extra=_QUICKTIME_EXTRA,
                  subtitle_copyable=_MOV_TEXT, coder=_FAST_AAC)
# Opus for Matroska: aac there carries its encoder padding into the stream's length (no edit list),
# which would make the output ~60 ms longer than the input.
_MKV = OutputKind("matroska", "libopus", ("-b", "128k"), "subrip", video=True, rate=48000, attachments=True)
WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
KINDS: dict[str, OutputKind] = {
    "mp4": _MP4,
    "m4v": _MP4,
    "mov": OutputKind("mov", "aac", ("-b", "160k"), "mov_text", video=True, copyable=_MP4_COPY | {"pcm_s16le", "pcm_s24le"},
                      extra=_QUICKTIME_EXTRA, subtitle_copyable=_MOV_TEXT, coder=_FAST_AAC),
    "mkv": _MKV,
    "webm": OutputKind("webm", "libopus", ("-b", "128k"), "webvtt", video=True, copyable=frozenset({"opus", "vorbis"}),
                       rate=48000, subtitle_copyable=frozenset({"webvtt"}), video_copyable=WEBM_VIDEO),
    "mka": OutputKind("matroska", "libopus", ("-b", "128k"), rate=48000, attachments=True),
    "m4a": OutputKind("ipod", "aac", ("-b", "160k"), copyable=frozenset({"aac", "alac"}), extra=("-movflags", "+faststart"),
                      coder=_FAST_AAC),
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
class EncodeSpec:
    """One language's dub mix, encoded while its windows are translated: the original's chosen audio read
    from the input, and from ffmpeg's stdin the rendered dub and the original's gain under it, as two
    float32 channels at ``feed_rate`` (channel 0 the dub, channel 1 the gain: 0 to replace the original),
    in the time order they are finished. The mix runs as long as the original audio, so the feed may run
    past it."""

    input: Path
    audio_index: int  # absolute index of the original audio stream
    feed_rate: int
    kind: OutputKind  # of the final file: its codec and quality
    rate: int  # of the mix
    stereo: bool
    output: Path  # the encoded mix, in ``mix_muxer(kind)``


def mix_muxer(kind: OutputKind) -> str:
    """The container an encoded mix waits in for the final pass, which copies it: the output's own, so
    what an encoder's priming needs (MP4's edit list, Opus's pre-skip) survives the copy."""
    return {"ipod": "mp4", "mov": "mp4", "webm": "matroska"}.get(kind.muxer, kind.muxer)


def build_encode_graph(spec: EncodeSpec) -> str:
    """The ``-filter_complex`` graph of one mix: the dub, brought up to the mix's rate (and to both sides of
    a stereo mix) over the original times its gain; ``[mix]`` out.

    Every filter here has taken these options since ffmpeg 4.4 at least, and the graph has one sink, its
    output. A second branch that ends in a sink of its own (as an ``ebur128`` meter into ``anullsink`` did)
    makes ffmpeg 7.0 abort now and then (``Assertion best_input >= 0 failed``): when the mix ends with the
    original, ``channelsplit`` closes the feed but never ends its other output, so that branch waits for
    input forever, and if the feed's last bytes were already read, ffmpeg 7.0 finds no input to ask and
    aborts (measured: 11 runs in 300, 131 in 200 when the feed ends 20 ms after the original; none in 800
    without the branch). The dub is measured in memory as it is fed instead
    (``dubber.media.loudness.TrackMeter``)."""
    layout = "stereo" if spec.stereo else "mono"
    up = ",pan=stereo|c0=c0|c1=c0" if spec.stereo else ""  # explicit: ffmpeg's default upmix is -3 dB
    fmt = f"aformat=sample_fmts=fltp:channel_layouts={layout}"
    # The bed and the dub are summed by amerge and pan, not amix: amix's normalize=0 (no division by the
    # input count) is missing from ffmpeg 4.x. amerge ends with its shorter input, the bed (the original
    # times its gain), since the feed runs past the original's end.
    total = "pan=stereo|c0=c0+c2|c1=c1+c3" if spec.stereo else "pan=mono|c0=c0+c1"
    # first_pts=0 pads late-starting original audio, so the mix lines up with the dub (which starts at 0)
    return ";".join([
        f"[0:{spec.audio_index}]aresample={spec.rate}:first_pts=0,{fmt}[orig]",
        "[1:a]channelsplit=channel_layout=stereo[dubbed][gain]",
        f"[dubbed]aresample={spec.rate}{up},{fmt}[dub]",
        f"[gain]aresample={spec.rate}{up},{fmt}[env]",
        "[orig][env]amultiply[bed]",
        f"[bed][dub]amerge=inputs=2,{total},{fmt}[mix]"])


def build_encode_args(spec: EncodeSpec) -> list[str]:
    """ffmpeg arguments of one mix's encoder, fed on stdin (pure)."""
    return ["-nostats", "-i", str(spec.input), "-f", "f32le", "-ar", str(spec.feed_rate), "-ac", "2", "-i", "pipe:0",
            "-filter_complex", build_encode_graph(spec), "-map", "[mix]", "-c:a", spec.kind.codec,
            *_quality(spec.kind, 0), *spec.kind.coder, "-f", mix_muxer(spec.kind), str(spec.output)]


@dataclass(frozen=True)
class DubMix:
    """One language's part of the final pass: its encoded mix, its subtitles, and the tags of its two new
    tracks."""

    encoded: Path  # the mix ``build_encode_args`` wrote
    subtitles: Path | None  # sidecar to embed; None when the kind cannot hold subtitles or there are no cues
    audio: Track
    subtitle: Track


@dataclass(frozen=True)
class MuxSpec:
    """Everything the final pass needs: one ``DubMix`` per language, in ``--to`` order (the first is the
    default track). The pass encodes nothing but what the container cannot hold as it is: each mix is
    copied, as are the video and (where the kind holds them) the input's other streams."""

    input: Path
    audio_index: int  # absolute index of the original audio stream
    dubs: tuple[DubMix, ...]
    output: Path
    kind: OutputKind
    original: Track | None  # the chosen audio's tags in the output; None: the input's audio is not kept
    carry: CarryPlan = CarryPlan((), (), (), (), ())  # the input's streams the output holds, and how


def mix_rate(kind: OutputKind, original_rate: int) -> int:
    if kind.rate is not None:
        return kind.rate
    return original_rate if original_rate in STANDARD_RATES else 48000


def _inputs(spec: MuxSpec) -> tuple[list[str], list[int | None]]:
    """ffmpeg's inputs: the original (0), each mix (1, 2, ...), then the subtitle files; and the input index
    of each mix's subtitles (None: that mix embeds none)."""
    args = ["-i", str(spec.input)]
    for mix in spec.dubs:
        args += ["-i", str(mix.encoded)]
    subtitles: list[int | None] = []
    next_input = 1 + len(spec.dubs)
    for mix in spec.dubs:
        embedded = mix.subtitles is not None and spec.kind.subtitle_codec is not None
        if embedded:
            args += ["-i", str(mix.subtitles)]
        subtitles.append(next_input if embedded else None)
        next_input += embedded
    return args, subtitles


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
    kind = spec.kind
    args, subtitles = _inputs(spec)
    for k, carried in enumerate(spec.carry.video):
        args += ["-map", f"0:{carried.stream.index}", f"-c:v:{k}", "copy"]
    for k, mix in enumerate(spec.dubs):
        args += ["-map", f"{k + 1}:a:0", f"-c:a:{k}", "copy"]
        args += _tags(f"a:{k}", mix.audio, "default" if k == 0 else "0", kind)
    args += _carried_audio(spec)
    subtitle = 0
    for mix, index in zip(spec.dubs, subtitles):
        if index is not None:
            args += ["-map", f"{index}:s", f"-c:s:{subtitle}", kind.subtitle_codec,
                     *_tags(f"s:{subtitle}", mix.subtitle, "0", kind)]
            subtitle += 1
    args += _carried_rest(spec, subtitle)
    return [*args, *kind.extra, "-f", kind.muxer, str(spec.output)]
