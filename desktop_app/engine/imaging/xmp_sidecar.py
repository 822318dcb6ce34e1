"""What a photographer put on a photo (rating, label, keywords, title, caption, GPS,
lineage), read from the file and its sidecar, and written into an XMP sidecar.

Reading uses python-exiv2 (the bindings of libexiv2, which it bundles): it reads the
embedded XMP, IPTC and EXIF of every format Doppel handles, RAWs included, and XMP
sidecar files. Where several say something, the sidecar wins (it is where Lightroom,
darktable and Capture One keep what the user changed), then XMP, IPTC, EXIF.

Writing never touches a photo: :func:`updated` returns the bytes of an XMP sidecar with
the given properties set, keeping everything else of an existing sidecar (an editor's
history, its settings, unknown namespaces and their prefixes). It writes the standard
properties: ``xmp:Rating``, ``xmp:Label``, ``dc:subject`` (a bag), ``dc:title`` and
``dc:description`` (language alternatives), ``exif:GPSLatitude``/``exif:GPSLongitude``.

The lineage fields (``xmpMM:DocumentID``, ``OriginalDocumentID``, ``DerivedFrom``) are
parsed by ``imaging/xmp.py``, the scan's reader: exiv2 finds the XMP in any format (RAWs
included) and :func:`lineage_of` reads the fields from it. IPTC and EXIF stay exiv2's.
"""

from __future__ import annotations

import io
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from typing import Any

from desktop_app.engine.imaging.xmp import XmpValue, parse_packet, text_value

log = logging.getLogger(__name__)

X = "adobe:ns:meta/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
NS = {
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stRef": "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
}


@dataclass(frozen=True, slots=True)
class Lineage:
    """What XMP says about where a file came from.

    Attributes:
        document_id: ``xmpMM:DocumentID`` of this file.
        original_document_id: ``xmpMM:OriginalDocumentID``: the document it began as.
        derived_from: ``xmpMM:DerivedFrom`` (its ``stRef:documentID``), the file it was
            made from (an export of a RAW, an edit of a JPEG).
        derived_from_name: The original's file name where XMP says it: darktable's
            ``xmpMM:DerivedFrom="IMG_1234.CR3"``, ``stRef:filePath``, or Camera Raw's
            ``crs:RawFileName`` (which a RAW's own sidecar also holds: see
            :meth:`source_name`).
    """

    document_id: str | None = None
    original_document_id: str | None = None
    derived_from: str | None = None
    derived_from_name: str | None = None

    def source_name(self, own_path: str) -> str | None:
        """The original's file name, unless it is the file's own name."""
        name = self.derived_from_name
        if not name:
            return None
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
        return None if name == own_path.replace("\\", "/").rsplit("/", 1)[-1] else name

    def is_derived(self, own_path: str) -> bool:
        """Whether the file at ``own_path`` was made from another one."""
        return bool(
            self.derived_from
            or self.source_name(own_path)
            or (
                self.original_document_id
                and self.document_id
                and self.original_document_id != self.document_id
            )
        )


@dataclass(frozen=True, slots=True)
class PhotoMetadata:
    """The user's metadata of one photo (empty fields: it says nothing).

    Attributes:
        rating: 1 to 5 stars (0 unrated, -1 rejected), None when absent.
        label: The colour label (``Red``, ``Purple``...).
        keywords: ``dc:subject`` / IPTC keywords.
        title: ``dc:title`` / IPTC object name.
        caption: ``dc:description`` / IPTC caption / EXIF image description.
        gps: (latitude, longitude) in degrees.
        lineage: Where it came from.
    """

    rating: int | None = None
    label: str | None = None
    keywords: frozenset[str] = frozenset()
    title: str | None = None
    caption: str | None = None
    gps: tuple[float, float] | None = None
    lineage: Lineage = field(default_factory=Lineage)


def _exiv2() -> Any:
    import exiv2  # imported on first use: a 10 MB library the scan does not need

    exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.mute)
    return exiv2


def read(path: str) -> PhotoMetadata:
    """The metadata of the file at ``path`` (a photo or an ``.xmp`` sidecar).

    A file without metadata, or one exiv2 cannot read, gives an empty result (logged).
    """
    exiv2 = _exiv2()
    try:
        image = exiv2.ImageFactory.open(path)
        image.readMetadata()
    except Exception as error:  # exiv2.Exiv2Error, OSError: unreadable is "nothing said"
        log.info("No metadata read from %s: %s", path, error)
        return PhotoMetadata()
    xmp = {d.key(): d for d in image.xmpData()}
    iptc: dict[str, list[str]] = {}
    for d in image.iptcData():
        iptc.setdefault(d.key(), []).append(d.toString())
    exif = {d.key(): d for d in image.exifData()}

    def text(key: str) -> str | None:
        d = xmp.get(key)
        if d is None or d.count() == 0:
            return None
        value = str(d.toString(0)).strip()
        return value or None

    rating = _int(text("Xmp.xmp.Rating"))
    if rating is None and "Exif.Image.Rating" in exif:
        rating = _int(exif["Exif.Image.Rating"].toString())
    keywords: set[str] = set()
    if "Xmp.dc.subject" in xmp:
        d = xmp["Xmp.dc.subject"]
        keywords |= {str(d.toString(i)).strip() for i in range(d.count())}
    keywords |= {k.strip() for k in iptc.get("Iptc.Application2.Keywords", [])}
    caption = text("Xmp.dc.description") or _first(iptc.get("Iptc.Application2.Caption"))
    if caption is None and "Exif.Image.ImageDescription" in exif:
        caption = str(exif["Exif.Image.ImageDescription"].toString()).strip() or None
    return PhotoMetadata(
        rating=rating,
        label=text("Xmp.xmp.Label"),
        keywords=frozenset(k for k in keywords if k),
        title=text("Xmp.dc.title") or _first(iptc.get("Iptc.Application2.ObjectName")),
        caption=caption,
        gps=_xmp_gps(text("Xmp.exif.GPSLatitude"), text("Xmp.exif.GPSLongitude"))
        or _exif_gps(exif),
        lineage=lineage_of(_xmp_properties(exiv2, image)),
    )


def _xmp_properties(exiv2: Any, image: Any) -> dict[str, XmpValue]:
    """The XMP exiv2 read from a file of any format, as :func:`xmp.parse_packet` gives it."""
    data = image.xmpData()
    if data.empty():
        return {}
    flags = exiv2.XmpParser.XmpFormatFlags
    try:
        code, packet = exiv2.XmpParser.encode(
            data, flags.omitPacketWrapper | flags.useCompactFormat, 0
        )
    except Exception as error:  # exiv2.Exiv2Error: unreadable is "nothing said"
        log.info("XMP of %s not re-encoded: %s", image, error)
        return {}
    return parse_packet(packet) if code == 0 and packet else {}


def lineage_of(props: dict[str, XmpValue]) -> Lineage:
    """The :class:`Lineage` an XMP packet states (properties from :func:`xmp.parse_packet`)."""
    return Lineage(
        document_id=text_value(props, "xmpMM:DocumentID"),
        original_document_id=text_value(props, "xmpMM:OriginalDocumentID"),
        derived_from=text_value(props, "xmpMM:DerivedFrom/stRef:documentID")
        or text_value(props, "xmpMM:DerivedFrom/stRef:instanceID"),
        derived_from_name=text_value(props, "xmpMM:DerivedFrom")  # darktable: a plain name
        or text_value(props, "xmpMM:DerivedFrom/stRef:filePath")
        or text_value(props, "crs:RawFileName"),
    )


def read_photo(path: str, sidecars: list[str]) -> PhotoMetadata:
    """A photo's metadata with what its ``.xmp`` sidecars say on top."""
    out = read(path)
    for sidecar in sidecars:
        if sidecar.lower().endswith(".xmp"):
            out = combined(out, read(sidecar))
    return out


def combined(base: PhotoMetadata, over: PhotoMetadata) -> PhotoMetadata:
    """``base`` with every field ``over`` states replacing it (keywords: the union)."""
    return PhotoMetadata(
        rating=over.rating if over.rating is not None else base.rating,
        label=over.label or base.label,
        keywords=base.keywords | over.keywords,
        title=over.title or base.title,
        caption=over.caption or base.caption,
        gps=over.gps or base.gps,
        lineage=over.lineage if over.lineage != Lineage() else base.lineage,
    )


def _first(values: list[str] | None) -> str | None:
    if not values:
        return None
    return values[0].strip() or None


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


_XMP_GPS = re.compile(r"^\s*(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$")


def _xmp_coordinate(value: str | None) -> float | None:
    """``51,30.5N`` or ``51,30,30N`` (XMP's GPSCoordinate) in degrees."""
    if value is None:
        return None
    match = _XMP_GPS.match(value)
    if match is None:
        return None
    degrees = float(match[1]) + float(match[2]) / 60 + float(match[3] or 0) / 3600
    return -degrees if match[4] in "SW" else degrees


def _xmp_gps(lat: str | None, lon: str | None) -> tuple[float, float] | None:
    a, b = _xmp_coordinate(lat), _xmp_coordinate(lon)
    return None if a is None or b is None else (a, b)


def _exif_gps(exif: dict[str, Any]) -> tuple[float, float] | None:
    try:
        out = []
        for axis, negative in (("Latitude", "S"), ("Longitude", "W")):
            d = exif[f"Exif.GPSInfo.GPS{axis}"]
            value = sum(d.toFloat(i) / 60**i for i in range(d.count()))
            ref = exif[f"Exif.GPSInfo.GPS{axis}Ref"].toString().strip()
            out.append(-value if ref == negative else value)
        return out[0], out[1]
    except (KeyError, ValueError, ZeroDivisionError):
        return None


def xmp_coordinate(degrees: float, positive: str, negative: str) -> str:
    """Degrees as XMP's GPSCoordinate, ``DD,MM.mmmmmmR``."""
    ref = negative if degrees < 0 else positive
    whole = int(abs(degrees))
    return f"{whole},{(abs(degrees) - whole) * 60:.6f}{ref}"


# --------------------------------------------------------------------- writing


_EMPTY = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    f'<x:xmpmeta xmlns:x="{X}"><rdf:RDF xmlns:rdf="{RDF}">'
    '<rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>'
)


def updated(existing: bytes | None, changes: PhotoMetadata) -> bytes:
    """The bytes of an XMP sidecar: ``existing`` (or an empty one) with the fields that
    ``changes`` states set, everything else kept.

    Raises:
        ValueError: ``existing`` is not XML with an ``rdf:RDF`` element.
    """
    source = existing if existing else _EMPTY.encode()
    for prefix, uri in _namespaces(source):
        if prefix:
            ET.register_namespace(prefix, uri)
    for prefix, uri in (("x", X), ("rdf", RDF), *NS.items()):
        ET.register_namespace(prefix, uri)
    try:
        root = ET.fromstring(source)
    except ET.ParseError as error:
        raise ValueError(f"not an XMP sidecar: {error}") from error
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f".//{{{RDF}}}RDF")
    if rdf is None:
        raise ValueError("not an XMP sidecar: no rdf:RDF element")
    description = rdf.find(f"{{{RDF}}}Description")
    if description is None:
        description = ET.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
    if changes.rating is not None:
        _set_text(rdf, description, "xmp", "Rating", str(changes.rating))
    if changes.label:
        _set_text(rdf, description, "xmp", "Label", changes.label)
    if changes.keywords:
        _set_array(rdf, description, "dc", "subject", "Bag", sorted(changes.keywords))
    if changes.title:
        _set_lang_alt(rdf, description, "dc", "title", changes.title)
    if changes.caption:
        _set_lang_alt(rdf, description, "dc", "description", changes.caption)
    if changes.gps is not None:
        lat, lon = changes.gps
        _set_text(rdf, description, "exif", "GPSLatitude", xmp_coordinate(lat, "N", "S"))
        _set_text(rdf, description, "exif", "GPSLongitude", xmp_coordinate(lon, "E", "W"))
    body = ET.tostring(root, encoding="unicode")
    if root.tag != f"{{{X}}}xmpmeta" or not source.lstrip().startswith(b"<?xpacket"):
        return (body + "\n").encode()
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        + body
        + '\n<?xpacket end="w"?>\n'
    ).encode()


def _namespaces(source: bytes) -> list[tuple[str, str]]:
    try:
        events = ET.iterparse(io.BytesIO(source), events=("start-ns",))
        return [(str(ns[0]), str(ns[1])) for _event, ns in events]
    except ET.ParseError:
        return []


def _clear(rdf: ET.Element, prefix: str, name: str) -> None:
    """Remove a property from every ``rdf:Description`` (attribute or element form)."""
    tag = f"{{{NS[prefix]}}}{name}"
    for description in rdf.findall(f"{{{RDF}}}Description"):
        description.attrib.pop(tag, None)
        for child in description.findall(tag):
            description.remove(child)


def _set_text(rdf: ET.Element, at: ET.Element, prefix: str, name: str, value: str) -> None:
    _clear(rdf, prefix, name)
    ET.SubElement(at, f"{{{NS[prefix]}}}{name}").text = value


def _set_array(
    rdf: ET.Element, at: ET.Element, prefix: str, name: str, kind: str, values: list[str]
) -> None:
    _clear(rdf, prefix, name)
    array = ET.SubElement(ET.SubElement(at, f"{{{NS[prefix]}}}{name}"), f"{{{RDF}}}{kind}")
    for value in values:
        ET.SubElement(array, f"{{{RDF}}}li").text = value


def _set_lang_alt(rdf: ET.Element, at: ET.Element, prefix: str, name: str, value: str) -> None:
    _set_array(rdf, at, prefix, name, "Alt", [value])
    item = at.find(f"{{{NS[prefix]}}}{name}/{{{RDF}}}Alt/{{{RDF}}}li")
    assert item is not None
    item.set(f"{{{XML}}}lang", "x-default")


def without_lineage(metadata: PhotoMetadata) -> PhotoMetadata:
    """The same metadata with no lineage (what a merge may carry over)."""
    return replace(metadata, lineage=Lineage())
