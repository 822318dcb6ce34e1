"""XMP: the metadata packet editors write into a photo or into a ``.xmp`` sidecar beside it.

:func:`read_xmp` gives one flat dictionary from either: ``"prefix:Name"`` -> text, or a
list of texts for an ``rdf:Bag``/``Seq``/``Alt``, with nested structures flattened as
``"xmpMM:DerivedFrom/stRef:documentID"``. Well-known namespaces get their usual prefix
(``xmpMM``, ``dc``, ``xmp``, ``exif``, ...); others are written ``{uri}Name``. Properties
may be written as attributes of ``rdf:Description`` or as child elements; both read alike.

Parsing is defensive: a packet larger than :data:`MAX_PACKET`, one that declares a
DOCTYPE or entities (the XML bomb family) or one that is not well-formed gives an empty
dictionary, never an exception. Nothing here runs an external program.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from PIL import Image

from desktop_app.engine.imaging import sidecar_files

log = logging.getLogger(__name__)

XmpValue = str | list[str]

#: Largest packet (or sidecar) we parse; real ones are a few KB, Lightroom's up to ~100 KB.
MAX_PACKET = 4 << 20

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

#: Usual prefixes of the namespaces photo software writes.
PREFIXES: dict[str, str] = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#": "stRef",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/lightroom/1.0/": "lr",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
    "http://darktable.sf.net/": "darktable",
    "http://ns.microsoft.com/photo/1.0/": "MicrosoftPhoto",
    "http://ns.microsoft.com/photo/1.0": "MicrosoftPhoto",
    "http://ns.adobe.com/xmp/1.0/DynamicMedia/": "xmpDM",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    _RDF: "rdf",
}

_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_TIFF_XMP_TAG = 700


def _name(tag: str) -> str:
    """``{uri}Local`` -> ``prefix:Local`` for known namespaces."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = PREFIXES.get(uri)
        return f"{prefix}:{local}" if prefix else tag
    return tag


def parse_packet(packet: bytes | str) -> dict[str, XmpValue]:
    """The properties of one XMP packet (see the module docstring for the form).

    Args:
        packet: The packet's bytes or text, with or without the ``<?xpacket?>`` wrapper.

    Returns:
        The properties; empty for a packet that cannot be read safely.
    """
    raw = packet.encode("utf-8", "replace") if isinstance(packet, str) else bytes(packet)
    raw = raw.strip(b"\x00 \t\r\n")
    if not raw or len(raw) > MAX_PACKET:
        return {}
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        log.debug("XMP packet with a DOCTYPE refused")
        return {}
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        log.debug("XMP packet is not well-formed", exc_info=True)
        return {}
    out: dict[str, XmpValue] = {}
    for description in root.iter(f"{{{_RDF}}}Description"):
        for key, value in _properties(description, ""):
            out.setdefault(key, value)
    return out


def _properties(node: ET.Element, prefix: str) -> Iterator[tuple[str, XmpValue]]:
    """Attributes and child properties of an ``rdf:Description`` (or a struct)."""
    for attr, value in node.attrib.items():
        if not attr.startswith(f"{{{_RDF}}}") and not attr.startswith(
            "{http://www.w3.org/XML/1998/namespace}"
        ):
            yield prefix + _name(attr), value.strip()
    for child in node:
        yield from _property(child, prefix + _name(child.tag))


def _property(element: ET.Element, key: str) -> Iterator[tuple[str, XmpValue]]:
    """One property element: text, an array, a struct, or an ``rdf:resource``."""
    resource = element.get(f"{{{_RDF}}}resource")
    if resource is not None:
        yield key, resource.strip()
        return
    children = list(element)
    if not children:
        if element.attrib:  # a struct written in attribute form
            yield from _properties(element, key + "/")
        else:
            yield key, (element.text or "").strip()
        return
    first = children[0]
    if first.tag in (f"{{{_RDF}}}Bag", f"{{{_RDF}}}Seq", f"{{{_RDF}}}Alt"):
        items = [(li.text or "").strip() for li in first if li.tag == f"{{{_RDF}}}li"]
        yield key, [item for item in items if item]
        return
    if first.tag == f"{{{_RDF}}}Description":  # rdf:parseType-less struct
        yield from _properties(first, key + "/")
        return
    for child in children:  # rdf:parseType="Resource": fields as children
        yield from _property(child, f"{key}/{_name(child.tag)}")


def packet_of(image: Image.Image) -> bytes | None:
    """The XMP packet embedded in an opened image, if any (JPEG, PNG, TIFF, WebP, HEIF)."""
    info = image.info
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = info.get(key)
        if isinstance(value, bytes | str) and value:
            data = value.encode("utf-8") if isinstance(value, str) else value
            return data[len(_JPEG_XMP_HEADER) :] if data.startswith(_JPEG_XMP_HEADER) else data
    tags = getattr(image, "tag_v2", None)
    if tags is not None:
        try:
            value = tags.get(_TIFF_XMP_TAG)
        except Exception:  # a damaged TIFF directory
            return None
        if isinstance(value, bytes | str) and value:
            return value.encode("utf-8") if isinstance(value, str) else value
    return None


def find_sidecar(path: str | os.PathLike[str], *, shared: bool = True) -> str | None:
    """The ``.xmp`` sidecar beside ``path`` if one exists (either name, any case).

    Which file is a photo's sidecar is decided in ``imaging/sidecar_files.py``; its
    folder is listed once and remembered while unchanged. ``shared`` (the default for
    reading): a stem-form ``IMG.xmp`` shared by a RAW and its JPEG applies to both.
    """
    folder, name = os.path.split(os.fspath(path))
    listing = sidecar_files.cached_listing(folder)
    if listing is None:
        return None
    found = listing.xmp(name, shared=shared)
    return os.path.join(folder, found) if found is not None else None


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, XmpValue]:
    """The properties of the sidecar beside the photo at ``path`` (empty if none)."""
    sidecar = find_sidecar(path)
    if sidecar is None:
        return {}
    try:
        with open(sidecar, "rb") as file:
            data = file.read(MAX_PACKET + 1)
    except OSError:
        log.debug("cannot read sidecar %s", sidecar, exc_info=True)
        return {}
    return parse_packet(data)


def read_xmp(
    source: str | os.PathLike[str] | Image.Image | bytes, *, sidecar: bool = True
) -> dict[str, XmpValue]:
    """XMP properties of a photo: its sidecar's, then the embedded packet's.

    Where both say something, the sidecar wins (editors write there; the embedded
    packet is what the file had when it arrived).

    Args:
        source: A photo path, an opened image, or a packet's bytes.
        sidecar: With a path, also read the sidecar beside it.

    Returns:
        The properties (empty when there is no readable XMP).
    """
    if isinstance(source, bytes):
        return parse_packet(source)
    if isinstance(source, Image.Image):
        packet = packet_of(source)
        return parse_packet(packet) if packet else {}
    embedded: dict[str, XmpValue] = {}
    try:
        with Image.open(source) as image:
            packet = packet_of(image)
            if packet:
                embedded = parse_packet(packet)
    except Exception:  # not an image Pillow reads (a RAW file): the sidecar may still say
        log.debug("no embedded XMP read from %s", source, exc_info=True)
    return {**embedded, **read_sidecar(source)} if sidecar else embedded


def text_value(props: dict[str, XmpValue], key: str) -> str | None:
    """A property as one text: the first item of an array, None when absent or blank."""
    value = props.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return value or None
