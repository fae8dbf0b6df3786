"""Per-frame sample stages: `remix` (channels), `to_dtype` (sample type), `gain` (level)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core import samples as dsp
from .._core.checks import FormatGuard, check_choice, finite_number
from .._core.errors import FormatError, ParameterError
from .._core.format import SUPPORTED_DTYPES, AudioFormat, DType
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.samples import positive_int
from .._core.stage import Stage, each_stage

__all__ = ("gain", "remix", "to_dtype")


def _per_frame(
    name: str,
    output_format: Callable[[AudioFormat], AudioFormat],
    convert: Callable[[AudioFormat], Callable[[AudioFrame, AudioFormat], AudioFrame] | None],
) -> Stage[AudioFrame, AudioFrame]:
    """A stage that maps each frame on its own to a frame of ``output_format(input)``,
    sample by sample (so the planner may run it on the source's blocks, before a `chunk`).

    ``convert(input_format)`` gives the per-frame function, or None when the stage leaves
    frames of that format as they are.
    """

    def each() -> Callable[[AudioFrame], AudioFrame]:
        guard = FormatGuard(name, None)
        out_fmt: AudioFormat | None = None
        step: Callable[[AudioFrame, AudioFormat], AudioFrame] | None = None

        def one(frame: AudioFrame) -> AudioFrame:
            nonlocal out_fmt, step
            fmt = guard(frame)
            if out_fmt is None:
                out_fmt = output_format(fmt)
                step = convert(fmt)
            return frame if step is None else step(frame, out_fmt)

        return one

    # Each output sample depends on that input sample alone, and silence stays silence.
    return each_stage(name, each, output_format=output_format, per_sample=True, keeps_silence=True)


@stage_entry(cli={"num_channels": "--channels"})
def remix(num_channels: int, *, matrix: ArrayLike | None = None) -> Stage[AudioFrame, AudioFrame]:
    """Change the channel count: FFmpeg's 5.1/7.1 down-mix, average to or copy mono, or a matrix.

    Mono is copied to every output channel; 5.1 and 7.1 are down-mixed to stereo or mono as
    ``ffmpeg -ac 2`` / ``-ac 1`` does; any other count is averaged to mono.

    The 5.1 (6 channels: FL FR FC LFE BL BR, WAV's and FFmpeg's order) and 7.1 (8: FL FR
    FC LFE BL BR SL SR) down-mixes are libswresample's default (ITU-R BS.775): each left
    channel to L and each right one to R, centre and surrounds at -3 dB, LFE dropped; mono
    takes FL and FR at -3 dB, FC at 0 dB and the surrounds at -6 dB. The gains are then
    divided by their largest sum over an output channel (1 + 2 x 0.7071 for 5.1 to stereo),
    as libswresample does for integer output, so nothing can clip:

    | in → out | FL, FR | FC | BL, BR | LFE | SL, SR (7.1) |
    | --- | --- | --- | --- | --- | --- |
    | 5.1 → stereo | 0.4142 | 0.2929 | 0.2929 | 0 | |
    | 5.1 → mono | 0.2071 | 0.2929 | 0.1464 | 0 | |
    | 7.1 → stereo | 0.3204 | 0.2265 | 0.2265 | 0 | 0.2265 |
    | 7.1 → mono | 0.1602 | 0.2265 | 0.1133 | 0 | 0.1133 |

    Measured against FFmpeg 5.1: float32 output equals ``ffmpeg -i in.wav -af
    aresample=rematrix_maxval=1 -ac 2 -c:a pcm_f32le out.wav`` to 1e-7, and int16 output
    ``ffmpeg -i in.wav -ac 2 out.wav`` within 1 (a fifth of the samples differ by 1, none
    by more: FFmpeg rounds its int16 gains to multiples of 1/32768). FFmpeg's float output
    without ``rematrix_maxval=1`` skips the division (5.1 to stereo is then 7.7 dB louder
    and can exceed full scale); lkframes scales both sample types alike. 3, 4 and 5
    channels have no default to stereo, their layout being ambiguous (FFmpeg assumes 2.1,
    4.0 and 5.0; a 4-channel WAV is often quad): pass ``matrix``.

    Args:
        num_channels: Output channels: 5.1 and 7.1 (6 and 8 channels) are down-mixed to
            stereo or mono as FFmpeg's -ac does, other counts to mono by averaging, and
            mono is up-mixed by copying it to each.
        matrix: ``(input_channels, num_channels)`` gains; ``out = in @ matrix``. Required
            for conversions without a default, e.g. ``[[1, 0], [0, 1], [.7, .7]]`` for 3
            to 2 channels; given, it replaces the default.

    Returns:
        The stage. int16 results are rounded and clipped.

    Raises:
        ParameterError: ``num_channels`` not positive, a matrix of the wrong shape or with
            non-finite values, or no matrix where no default exists.
        FormatError: The matrix rows do not match the input's channel count.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> stereo = np.array([[100, 300], [-50, 50]], np.int16)
        >>> lk.run_sync(lk.from_array(stereo, 8_000).remix(1).to_array()).ravel().tolist()
        [200, 0]
        >>> one_each = np.eye(6, dtype=np.int16) * 10_000  # FL, FR, FC, LFE, BL, BR in turn
        >>> lk.run_sync(lk.from_array(one_each, 8_000).remix(2).to_array()).tolist()
        [[4142, 0], [0, 4142], [2929, 2929], [0, 0], [2929, 0], [0, 2929]]
    """
    out_channels = positive_int(num_channels, "num_channels")
    given: NDArray[np.float32] | None = None
    if matrix is not None:
        given = np.asarray(matrix, dtype=np.float32)
        if given.ndim != 2 or given.shape[1] != out_channels:
            raise ParameterError(
                f"matrix has invalid shape {given.shape} (expected (input_channels, "
                f"{out_channels}))"
            )
        if not np.isfinite(given).all():
            raise ParameterError("matrix contains NaN or infinity (expected finite gains)")
    name = f"remix({out_channels})"

    def matrix_for(in_channels: int) -> NDArray[np.float32] | None:
        if given is not None:
            if given.shape[0] != in_channels:
                raise FormatError(
                    f"{name}: matrix rows do not match the input channels",
                    f"{given.shape[0]} channels",
                    f"{in_channels} channels",
                )
            return given
        if in_channels == out_channels:
            return None
        default = dsp.mix_matrix(in_channels, out_channels)
        if default is None:
            raise ParameterError(
                f"no default mix from {in_channels} to {out_channels} channels (defaults "
                f"exist to mono, from mono, and from 5.1 or 7.1 (6 or 8 channels) to stereo)",
                hint=f"pass matrix= with {in_channels} rows of {out_channels} gains",
            )
        return default

    def output_format(fmt: AudioFormat) -> AudioFormat:
        matrix_for(fmt.num_channels)  # refuse an impossible mix when the stage is applied
        return fmt.with_(num_channels=out_channels)

    def convert(fmt: AudioFormat) -> Callable[[AudioFrame, AudioFormat], AudioFrame] | None:
        mix = matrix_for(fmt.num_channels)
        if mix is None:
            return None
        return lambda frame, out: AudioFrame.of(dsp.apply_matrix(frame.data, mix), out, frame.pts)

    return _per_frame(name, output_format, convert)


@stage_entry(cli={"dtype": "--dtype"})
def to_dtype(dtype: DType) -> Stage[AudioFrame, AudioFrame]:
    """Convert samples to ``"int16"`` or ``"float32"``.

    int16 full scale (32768) is float 1.0; float to int16 rounds and clips, so
    int16 → float32 → int16 is exact.

    Args:
        dtype: The sample type to convert to.

    Returns:
        The stage. Frames already of ``dtype`` pass through untouched.

    Raises:
        ParameterError: An unsupported dtype.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> x = np.array([-32768, 16384], np.int16)
        >>> lk.run_sync(lk.from_array(x, 8_000).to_dtype("float32").to_array()).tolist()
        [-1.0, 0.5]
    """
    check_choice(dtype, SUPPORTED_DTYPES, "dtype")

    def output_format(fmt: AudioFormat) -> AudioFormat:
        return fmt.with_(dtype=dtype)

    def convert(fmt: AudioFormat) -> Callable[[AudioFrame, AudioFormat], AudioFrame] | None:
        if fmt.dtype == dtype:
            return None
        return lambda frame, out: AudioFrame.of(
            dsp.convert_dtype(frame.data, dtype), out, frame.pts
        )

    return _per_frame(f"to_dtype({dtype!r})", output_format, convert)


@stage_entry(cli={"db": "--gain-db"})
def gain(db: float) -> Stage[AudioFrame, AudioFrame]:
    """Multiply the level by ``10 ** (db / 20)``; int16 is rounded and clipped.

    Args:
        db: The change in decibels (negative is quieter).

    Returns:
        The stage. At 0 dB frames pass through untouched.

    Raises:
        ParameterError: ``db`` is not a finite number.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> x = np.array([1000, -1000], np.int16)
        >>> lk.run_sync(lk.from_array(x, 8_000).gain(-6.0206).to_array()).tolist()
        [500, -500]
    """
    db = finite_number(db, "db")
    factor = float(10.0 ** (db / 20.0))

    def convert(fmt: AudioFormat) -> Callable[[AudioFrame, AudioFormat], AudioFrame] | None:
        if db == 0:
            return None
        return lambda frame, out: AudioFrame.of(dsp.scale(frame.data, factor), out, frame.pts)

    return _per_frame(f"gain({db:g} dB)", lambda fmt: fmt, convert)
