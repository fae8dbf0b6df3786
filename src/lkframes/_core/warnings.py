"""The warnings lkframes gives on purpose: audio read with a caveat the caller should see.

Each carries what it reports as attributes, so a program (the CLI's ``--json``) can use
the facts instead of parsing the message.
"""

from __future__ import annotations

__all__ = (
    "AssumedFormatWarning",
    "DamagedAudioWarning",
    "LoudnessWarning",
    "TruncatedAudioWarning",
)


class TruncatedAudioWarning(UserWarning):
    """Like `TruncatedAudioError`, as a warning (policy ``on_truncated="warn"``).

    Examples:
        >>> import lkframes as lk  # from_file(path, on_truncated="warn") warns with it
        >>> issubclass(lk.TruncatedAudioWarning, UserWarning)
        True
    """


class DamagedAudioWarning(UserWarning):
    """Undecodable data was skipped while reading a file (policy ``on_damaged="skip"``).

    Given once, when the file has been read to its end.

    Args:
        message: What was skipped, where, and how much audio was lost.
        positions_s: Where each damaged stretch starts, in seconds of audio.
        lost_s: Seconds of audio lost in all (replaced by silence where the file's
            timestamps say where it belongs).
        at_least: More may be lost: a stretch's length is unknown and the file declares
            no length that would tell.
        filled_s: Seconds of silence put in for the stretches the timestamps place (the
            rest of ``lost_s`` is missing from the stream).

    Examples:
        >>> import lkframes as lk
        >>> warning = lk.DamagedAudioWarning("damaged", positions_s=(1.5,), lost_s=0.02)
        >>> warning.positions_s, warning.lost_s, warning.at_least
        ((1.5,), 0.02, False)
    """

    def __init__(
        self,
        message: str,
        *,
        positions_s: tuple[float, ...],
        lost_s: float,
        at_least: bool = False,
        filled_s: float = 0.0,
    ) -> None:
        self.positions_s = positions_s
        self.lost_s = lost_s
        self.at_least = at_least
        self.filled_s = filled_s
        super().__init__(message)


class AssumedFormatWarning(UserWarning):
    """A headerless file was read in its format's standard layout: the caller gave none.

    μ-law and A-law files (``.ul``, ``.al``) are 8000 Hz mono by their standard (ITU-T
    G.711); `from_file` reads them so, with this warning, when no layout is given.

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.AssumedFormatWarning, UserWarning)
        True
    """


class LoudnessWarning(UserWarning):
    """`normalize` fell short of its target loudness (a true-peak limit, or silence).

    The gain that reaches the target would have passed the true-peak limit, so a smaller
    gain was applied; or the stream is silent and was left as it is.

    Args:
        message: What happened, the gain wanted and the gain applied.
        target_lufs: The loudness asked for.
        output_lufs: The loudness the output has instead (-inf for silence).

    Examples:
        >>> import lkframes as lk
        >>> warning = lk.LoudnessWarning("short", target_lufs=-16.0, output_lufs=-18.5)
        >>> warning.target_lufs - warning.output_lufs
        2.5
    """

    def __init__(self, message: str, *, target_lufs: float, output_lufs: float) -> None:
        self.target_lufs = target_lufs
        self.output_lufs = output_lufs
        super().__init__(message)
