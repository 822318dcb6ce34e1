"""Capture identity, XMP and pixel identity read at scan time (issue 9, items 1 and 2)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFilter

from desktop_app.demo import synthetic_photo
from desktop_app.demo.shots import capture_exif, replace_exif, strip_metadata
from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.config import EngineConfig
from desktop_app.engine.imaging import xmp
from desktop_app.engine.imaging.hashing import hash_file
from desktop_app.engine.imaging.identity import jpeg_scan, sharpness
from desktop_app.engine.types import Capture, ImageFeatures

CONFIG = EngineConfig(workers=0)
PICTURE = synthetic_photo(7, (480, 320))

XMP_ATTRS = b"""<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
  xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmpMM:DocumentID="xmp.did:AAA" xmpMM:OriginalDocumentID="xmp.did:ORIG" xmp:Rating="4">
 <xmpMM:InstanceID>xmp.iid:BBB</xmpMM:InstanceID>
 <xmpMM:DerivedFrom rdf:parseType="Resource">
  <stRef:documentID>xmp.did:PARENT</stRef:documentID>
 </xmpMM:DerivedFrom>
 <dc:subject><rdf:Bag><rdf:li>birds</rdf:li><rdf:li>lake</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"""


def _jpeg(path, exif=None, quality=90, picture=PICTURE, **kwargs):
    options = {"quality": quality, **kwargs}
    if exif is not None:
        options["exif"] = exif
    picture.save(path, "JPEG", **options)
    return path


def _features(path) -> ImageFeatures:
    result = hash_file(str(path), CONFIG)
    assert isinstance(result, ImageFeatures), result
    return result


def test_xmp_packet_attributes_elements_structs_and_arrays():
    props = xmp.parse_packet(XMP_ATTRS)
    assert props["xmpMM:DocumentID"] == "xmp.did:AAA"
    assert props["xmpMM:InstanceID"] == "xmp.iid:BBB"
    assert props["xmpMM:DerivedFrom/stRef:documentID"] == "xmp.did:PARENT"
    assert props["dc:subject"] == ["birds", "lake"]
    assert props["xmp:Rating"] == "4"


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"<not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"\x00" * 100,
    ],
)
def test_bad_xmp_packets_read_as_empty(packet):
    assert xmp.parse_packet(packet) == {}


def test_capture_from_exif_and_embedded_xmp_and_sidecar(tmp_path):
    path = _jpeg(tmp_path / "IMG_1.jpg", capture_exif(subsec="120"), xmp=XMP_ATTRS)
    capture = _features(path).capture
    assert capture == Capture(
        taken="2024-05-01T14:22:48",
        subsec="120",
        make="Canon",
        model="Canon EOS R5",
        serial="012345678901",
        exposure_time=0.004,
        f_number=2.8,
        iso=200,
        exposure_bias=0.0,
        document_id="xmp.did:AAA",
        original_document_id="xmp.did:ORIG",
        instance_id="xmp.iid:BBB",
        derived_from="xmp.did:PARENT",
    )
    assert capture.when == "2024-05-01 14:22:48.120"
    assert capture.exposure == "1/250 s f/2.8 ISO 200"
    # darktable's sidecar (IMG_1.jpg.xmp) says where the file comes from; it wins.
    (tmp_path / "IMG_1.jpg.xmp").write_bytes(XMP_ATTRS.replace(b"xmp.did:AAA", b"xmp.did:SIDECAR"))
    assert _features(path).capture.document_id == "xmp.did:SIDECAR"
    assert xmp.read_xmp(path)["xmpMM:DocumentID"] == "xmp.did:SIDECAR"
    assert xmp.read_xmp(path, sidecar=False)["xmpMM:DocumentID"] == "xmp.did:AAA"


def test_lightroom_style_sidecar_beside_a_png_without_exif(tmp_path):
    PICTURE.save(tmp_path / "scan.png")
    (tmp_path / "scan.xmp").write_bytes(XMP_ATTRS)
    capture = _features(tmp_path / "scan.png").capture
    assert capture is not None and capture.document_id == "xmp.did:AAA"
    assert not capture.shot  # no capture time: pixels will decide


def test_no_metadata_gives_no_capture(tmp_path):
    assert _features(_jpeg(tmp_path / "bare.jpg")).capture is None


def test_damaged_exif_values_are_left_out(tmp_path):
    exif = capture_exif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x829A] = (1, 0)  # a zero denominator
    ifd[0x9003] = "0000:00:00 00:00:00"
    capture = _features(_jpeg(tmp_path / "odd.jpg", exif)).capture
    assert capture is not None
    assert capture.exposure_time is None and capture.taken is None
    assert capture.model == "Canon EOS R5"


def test_pixel_digest_ignores_metadata_but_not_pixels(tmp_path):
    original = _jpeg(tmp_path / "a.jpg", capture_exif(), xmp=XMP_ATTRS)
    data = original.read_bytes()
    (tmp_path / "stripped.jpg").write_bytes(strip_metadata(data))
    (tmp_path / "rewritten.jpg").write_bytes(
        replace_exif(data, capture_exif("2019-01-01T00:00:00", model="Other"))
    )
    _jpeg(tmp_path / "resaved.jpg", capture_exif(), quality=89)
    found = {p.name: _features(p) for p in tmp_path.iterdir()}
    assert found["stripped.jpg"].capture is None
    assert found["rewritten.jpg"].capture.model == "Other"
    same = {f.pixel_digest for n, f in found.items() if n != "resaved.jpg"}
    assert len(same) == 1 and None not in same
    assert found["resaved.jpg"].pixel_digest not in same
    assert len({f.digest for f in found.values()}) == 4


def test_pixel_digest_of_other_formats_and_greyscale(tmp_path):
    PICTURE.save(tmp_path / "a.png")
    PICTURE.save(tmp_path / "b.png", pnginfo=None, compress_level=1)  # other bytes
    PICTURE.convert("L").save(tmp_path / "grey.tiff")
    _jpeg(tmp_path / "grey.jpg", picture=PICTURE.convert("L"))
    a, b = _features(tmp_path / "a.png"), _features(tmp_path / "b.png")
    assert a.digest != b.digest and a.pixel_digest == b.pixel_digest
    assert not a.greyscale
    assert _features(tmp_path / "grey.tiff").greyscale
    assert _features(tmp_path / "grey.jpg").greyscale


def test_jpeg_scan_refuses_what_it_cannot_walk():
    assert jpeg_scan(b"not a jpeg") == (None, None)
    assert jpeg_scan(b"\xff\xd8\xff\xe1\x00\x01") == (None, None)
    buffer = io.BytesIO()
    PICTURE.save(buffer, "JPEG")
    digest, components = jpeg_scan(buffer.getvalue())
    assert digest is not None and components == 3


def test_sharpness_is_lower_for_a_blurred_frame(tmp_path):
    _jpeg(tmp_path / "sharp.jpg")
    _jpeg(tmp_path / "soft.jpg", picture=PICTURE.filter(ImageFilter.GaussianBlur(3)))
    sharp, soft = _features(tmp_path / "sharp.jpg"), _features(tmp_path / "soft.jpg")
    assert sharp.sharpness > 2 * soft.sharpness > 0
    assert sharpness(Image.new("L", (2, 2))) == 0.0


def test_identity_survives_the_catalog(tmp_path):
    path = _jpeg(tmp_path / "a.jpg", capture_exif(subsec="12"), xmp=XMP_ATTRS)
    features = _features(path)
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.add_results([features], 1)
        record = catalog.record_at(str(path))
    assert record.capture == features.capture
    assert record.pixel_digest == features.pixel_digest
    assert record.sharpness == features.sharpness
    assert record.greyscale is False


def test_baseline_path_skips_the_identity_work(tmp_path):
    path = _jpeg(tmp_path / "a.jpg", capture_exif())
    plain = hash_file(str(path), CONFIG, identity=False)
    full = _features(path)
    assert isinstance(plain, ImageFeatures)
    assert plain.capture is None and plain.pixel_digest is None and plain.sharpness is None
    assert plain.phash == full.phash and plain.digest == full.digest


def test_heic_capture_and_pixel_digest(tmp_path):
    import pillow_heif

    from tests.engine.test_heif_raw import phone_exif

    pillow_heif.register_heif_opener()  # only to write; the loader registers it itself
    PICTURE.save(tmp_path / "IMG_1.heic", "HEIF", quality=90, exif=phone_exif(1))
    found = _features(tmp_path / "IMG_1.heic")
    assert found.capture.taken == "2022-12-24T09:30:00"
    assert found.capture.model == "iPhone 13" and found.capture.make == "Apple"
    assert found.pixel_digest is not None and found.sharpness > 0


def test_raw_capture_from_its_tiff_directories_and_a_darktable_sidecar(tmp_path):
    from tests.engine.test_heif_raw import tiny_dng

    path = tmp_path / "DSC_0001.dng"
    path.write_bytes(tiny_dng(synthetic_photo(3, (192, 128)), preview=True))
    capture = _features(path).capture
    assert capture is not None and capture.model == "Doppel Test DNG"
    assert capture.taken is None  # the DNG carries DateTime, not DateTimeOriginal
    sidecar = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        b' xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" exif:DateTimeOriginal='
        b'"2024-05-01T13:45:10.25" xmpMM:DerivedFrom="DSC_0001.dng"/></rdf:RDF></x:xmpmeta>'
    )
    (tmp_path / "DSC_0001.dng.xmp").write_bytes(sidecar)
    capture = _features(path).capture
    assert capture.taken == "2024-05-01T13:45:10"
    assert capture.derived_from == "DSC_0001.dng"
