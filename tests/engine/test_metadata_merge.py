"""The keeper inherits what its removed copies carried, in its XMP sidecar, and undo
takes it back byte for byte. The sidecars written here are read back with exiv2 (the
library's own parser), not with the module that wrote them."""

from __future__ import annotations

import os
from pathlib import Path

import exiv2
import pytest

from desktop_app.engine.catalog.store import Catalog
from desktop_app.engine.fileops import metadata_merge, operations, sidecar_edits
from desktop_app.engine.fileops.operations import Removal, Request
from desktop_app.engine.fileops.trash import FreedesktopTrash
from desktop_app.engine.imaging import xmp_sidecar
from desktop_app.engine.imaging.xmp_sidecar import PhotoMetadata
from desktop_app.engine.types import drain
from tests.engine.cleanup_support import (
    add_to_catalog,
    no_system_trash,  # noqa: F401 - autouse fixture
    tree_digests,
    write_file,
    write_photo,
)

SEA_XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmp:Rating="2" crs:Exposure2012="+0.35">
   <dc:subject><rdf:Bag><rdf:li>sea</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def embed(path: Path, xmp: dict[str, object], iptc: dict[str, str] | None = None) -> None:
    """Write metadata into a photo with exiv2 (the test's setup, not the code under test)."""
    image = exiv2.ImageFactory.open(str(path))
    image.readMetadata()
    data = image.xmpData()
    for key, value in xmp.items():
        if isinstance(value, list):
            bag = exiv2.Value.create(exiv2.TypeId.xmpBag)
            for item in value:
                bag.read(item)
            data[key] = bag
        else:
            data[key] = str(value)
    for key, text in (iptc or {}).items():
        image.iptcData()[key] = text
    image.writeMetadata()


def read_back(path: Path) -> dict[str, list[str]]:
    """Every XMP property of a sidecar, as exiv2 reads it."""
    image = exiv2.ImageFactory.open(str(path))
    image.readMetadata()
    out = {}
    for d in image.xmpData():
        if d.typeName() in ("XmpBag", "XmpSeq", "XmpAlt", "LangAlt"):
            out[d.key()] = [str(d.toString(i)) for i in range(d.count())]
        else:
            out[d.key()] = [str(d.toString())]
    return out


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.sqlite") as opened:
        yield opened


@pytest.fixture
def group(tmp_path, catalog):
    """Keeper IMG_5.CR3 with its IMG_5.xmp (rating 2, {sea}); two JPEG copies carrying
    rating 4, {harbour, dawn} and a caption; and a JPEG keeper without a sidecar."""
    root = tmp_path / "lib"
    keeper = write_file(root / "IMG_5.CR3", b"not really a raw " * 40)
    write_file(root / "IMG_5.xmp", SEA_XMP)
    first = write_photo(root / "export" / "IMG_5.jpg", seed=1)
    embed(first, {"Xmp.xmp.Rating": 4, "Xmp.dc.subject": ["harbour"]})
    second = write_photo(root / "copies" / "IMG_5.jpg", seed=2)
    embed(
        second,
        {"Xmp.xmp.Rating": 3, "Xmp.dc.description": "Boats leaving at first light"},
        {"Iptc.Application2.Keywords": "dawn"},
    )
    plain_keeper = write_photo(root / "b.jpg", seed=5)
    embed(plain_keeper, {"Xmp.xmp.Rating": 1})
    plain_copy = write_photo(root / "copies" / "b.jpg", seed=5)
    embed(plain_copy, {"Xmp.xmp.Label": "Red", "Xmp.exif.GPSLatitude": "43,17.5N",
                       "Xmp.exif.GPSLongitude": "5,22.25E"})  # fmt: skip
    catalog.add_root(str(root))
    items = (
        Removal(add_to_catalog(catalog, first), keeper=str(keeper)),
        Removal(add_to_catalog(catalog, second), keeper=str(keeper)),
        Removal(add_to_catalog(catalog, plain_copy), keeper=str(plain_keeper)),
    )
    add_to_catalog(catalog, keeper)
    add_to_catalog(catalog, plain_keeper)
    return root, items


def test_what_the_keeper_lacks_is_inherited():
    keeper = PhotoMetadata(rating=2, keywords=frozenset({"sea"}), title="Mine")
    removed = [
        PhotoMetadata(rating=4, keywords=frozenset({"harbour"}), title="Theirs"),
        PhotoMetadata(rating=-1, keywords=frozenset({"dawn"}), caption="c", gps=(1.0, 2.0)),
    ]
    got = metadata_merge.inherited(keeper, removed)
    assert got.rating == 4 and got.keywords == {"sea", "harbour", "dawn"}
    assert got.title is None and got.caption == "c" and got.gps == (1.0, 2.0)
    richer = PhotoMetadata(rating=5, keywords=frozenset({"sea", "x"}), title="T", caption="C")
    assert metadata_merge.is_empty(metadata_merge.inherited(richer, [keeper]))


def test_apply_with_the_merge_then_undo(tmp_path, catalog, group):
    root, items = group
    before = tree_digests(root)
    request = Request(items, merge_metadata=True)
    planned = operations.preview_merge(catalog, request)
    assert {Path(m.sidecar).name: m.created for m in planned} == {
        "IMG_5.xmp": False,
        "b.jpg.xmp": True,
    }
    assert tree_digests(root) == before  # the dry run touched nothing

    trash = FreedesktopTrash(tmp_path / "trash")
    report = drain(operations.apply(catalog, request, trash=trash))
    assert len(report.done) == 3
    assert [m.state for m in report.merges] == ["done", "done"]

    raw = read_back(root / "IMG_5.xmp")
    assert raw["Xmp.xmp.Rating"] == ["4"]
    assert sorted(raw["Xmp.dc.subject"]) == ["dawn", "harbour", "sea"]
    assert raw["Xmp.dc.description"] == ["Boats leaving at first light"]
    assert raw["Xmp.crs.Exposure2012"] == ["+0.35"]  # the editor's settings are kept
    plain = read_back(root / "b.jpg.xmp")
    assert plain["Xmp.xmp.Label"] == ["Red"]
    assert "Xmp.xmp.Rating" not in plain  # the keeper's own 1 is higher than none
    assert plain["Xmp.exif.GPSLatitude"][0].startswith("43,17.5")
    assert xmp_sidecar.read(str(root / "b.jpg")).rating == 1  # the photo file untouched

    undone = drain(operations.undo(catalog))
    assert [m.state for m in undone.merges] == ["undone", "undone"]
    assert tree_digests(root) == before
    assert not (root / "b.jpg.xmp").exists()


def test_undo_leaves_a_sidecar_changed_since_the_merge(tmp_path, catalog, group):
    root, items = group
    trash = FreedesktopTrash(tmp_path / "trash")
    drain(operations.apply(catalog, Request(items, merge_metadata=True), trash=trash))
    (root / "b.jpg.xmp").write_bytes(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/> edited by hand")
    undone = drain(operations.undo(catalog))
    changed = [m for m in undone.merges if m.sidecar.endswith("b.jpg.xmp")]
    assert changed[0].state == "done" and "changed since" in (changed[0].note or "")
    assert (root / "b.jpg.xmp").read_bytes().endswith(b"edited by hand")


def test_an_interrupted_sidecar_write_is_settled(tmp_path, catalog):
    path = tmp_path / "x.jpg.xmp"
    edit = sidecar_edits.write(catalog, 1, str(tmp_path / "x.jpg"), str(path), b"<after/>", "s")
    catalog.execute("UPDATE sidecar_edits SET state='planned' WHERE id=?", (edit.id,))
    (settled,) = sidecar_edits.recover(catalog)
    assert settled.state is sidecar_edits.EditState.DONE
    os.unlink(path)  # as if the program stopped before the write
    catalog.execute("UPDATE sidecar_edits SET state='planned' WHERE id=?", (edit.id,))
    (settled,) = sidecar_edits.recover(catalog)
    assert settled.state is sidecar_edits.EditState.FAILED
