"""Exposures and copies that differ only in their metadata, for tests and benchmarks.

A camera original carries its capture identity (``capture_exif``); the frames of a burst
or a bracket beside it look alike but are other exposures (``burst_frame``,
``bracket``); its copies keep its pixels while their metadata is stripped
(``strip_metadata``), rewritten (``replace_exif``) or retimed (``capture_exif`` with
another time). The byte surgery here never re-encodes: the entropy-coded data stays as
it was, as exiftool leaves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PIL import Image, ImageEnhance

_EXIF_IFD = 0x8769


def capture_exif(
    taken: str = "2024-05-01T14:22:48",
    subsec: str | None = "00",
    *,
    make: str = "Canon",
    model: str = "Canon EOS R5",
    serial: str | None = "012345678901",
    exposure: tuple[int, int] = (1, 250),
    f_number: tuple[int, int] = (28, 10),
    iso: int = 200,
    bias: tuple[int, int] = (0, 1),
    shift_hours: int = 0,
) -> Image.Exif:
    """An EXIF block as a camera writes it for one exposure.

    Args:
        taken: DateTimeOriginal, ISO 8601.
        subsec: SubSecTimeOriginal, or None to leave it out.
        make: Make.
        model: Model.
        serial: BodySerialNumber, or None.
        exposure: ExposureTime as a fraction.
        f_number: FNumber as a fraction.
        iso: PhotographicSensitivity.
        bias: ExposureBiasValue as a fraction (stops).
        shift_hours: Move the capture time by this many hours (a time-zone fix).
    """
    when = datetime.fromisoformat(taken) + timedelta(hours=shift_hours)
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0132] = stamp
    ifd = exif.get_ifd(_EXIF_IFD)
    ifd[0x9003] = stamp
    ifd[0x9004] = stamp
    if subsec is not None:
        ifd[0x9291] = subsec
    if serial is not None:
        ifd[0xA431] = serial
    ifd[0x829A] = exposure
    ifd[0x829D] = f_number
    ifd[0x8827] = iso
    ifd[0x9204] = bias
    return exif


def _segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """A JPEG's header segments (marker, whole segment) and the rest from the first SOS."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos, out = 2, list[tuple[int, bytes]]()
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xDA:
            return out, data[pos:]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        out.append((marker, data[pos : pos + 2 + length]))
        pos += 2 + length
    raise ValueError("no scan in this JPEG")


def strip_metadata(data: bytes) -> bytes:
    """A JPEG without any metadata segment (APP1..APP15, COM), pixels untouched."""
    segments, scan = _segments(data)
    kept = [seg for marker, seg in segments if not (0xE1 <= marker <= 0xEF or marker == 0xFE)]
    return b"\xff\xd8" + b"".join(kept) + scan


def replace_exif(data: bytes, exif: Image.Exif) -> bytes:
    """A JPEG with its EXIF segment replaced by ``exif``, pixels untouched."""
    segments, scan = _segments(data)
    payload = b"Exif\x00\x00" + exif.tobytes()
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    kept = [
        seg for marker, seg in segments if not (marker == 0xE1 and seg[4:10] == b"Exif\x00\x00")
    ]
    # APP0 (JFIF) first if present, then the new EXIF.
    head = [seg for seg in kept if seg[1] == 0xE0]
    rest = [seg for seg in kept if seg[1] != 0xE0]
    return b"\xff\xd8" + b"".join(head) + app1 + b"".join(rest) + scan


def burst_frame(picture: Image.Image, kind: str, amount: float = 0.03) -> Image.Image:
    """Another frame of the same burst.

    Args:
        picture: The first frame.
        kind: "moved" (the camera moved by ``amount`` of the width and height) or
            "subject" (a part of the scene moved: a band of the picture shifted).
        amount: How far, as a share of the picture's size.
    """
    width, height = picture.size
    dx, dy = max(1, round(width * amount)), max(1, round(height * amount))
    if kind == "moved":
        return picture.crop((dx, dy, width, height)).resize(
            (width, height), Image.Resampling.LANCZOS
        )
    if kind == "subject":
        frame = picture.copy()
        box = (width // 4, height // 3, width // 2, 2 * height // 3)
        frame.paste(picture.crop(box), (box[0] + 2 * dx, box[1] + dy))
        return frame
    raise ValueError(f"unknown burst kind {kind!r}")


def bracket(picture: Image.Image, stops: float = -1.0) -> Image.Image:
    """The same scene exposed ``stops`` brighter (negative: darker)."""
    return ImageEnhance.Brightness(picture).enhance(2.0**stops)
