"""Lineage from XMP: "exported from IMG_1234.CR3", and the keep rules that prefer the
original or the edited export."""

from __future__ import annotations

import exiv2

from desktop_app.engine.selection import lineage, presets
from desktop_app.engine.selection.keeprules import choose
from desktop_app.engine.types import Member
from tests.engine.cleanup_support import record, write_file, write_photo

ORIGINAL_SIDECAR = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmpMM:DocumentID="xmp.did:0A1B" xmpMM:OriginalDocumentID="xmp.did:0A1B"/>
 </rdf:RDF>
</x:xmpmeta>
"""


def _xmp(path, values):
    image = exiv2.ImageFactory.open(str(path))
    image.readMetadata()
    for key, value in values.items():
        image.xmpData()[key] = value
    image.writeMetadata()


def test_exports_name_their_original(tmp_path):
    original = write_file(tmp_path / "IMG_1234.CR3", b"raw " * 64)
    write_file(tmp_path / "IMG_1234.xmp", ORIGINAL_SIDECAR)
    darktable = write_photo(tmp_path / "out" / "IMG_1234.jpg", seed=1)
    _xmp(darktable, {"Xmp.xmpMM.DerivedFrom": "IMG_1234.CR3"})
    lightroom = write_photo(tmp_path / "out" / "edit.jpg", seed=2)
    _xmp(
        lightroom,
        {
            "Xmp.xmpMM.DocumentID": "xmp.did:77FF",
            "Xmp.xmpMM.OriginalDocumentID": "xmp.did:0A1B",
        },
    )
    plain = write_photo(tmp_path / "plain.jpg", seed=3)
    said = lineage.describe([str(original), str(darktable), str(lightroom), str(plain)])
    assert said == {
        str(darktable): "exported from IMG_1234.CR3",
        str(lightroom): "exported from IMG_1234.CR3",
    }

    members = [
        Member(record(1, str(darktable), width=6000, height=4000), 0, False),
        Member(record(2, str(original), width=3000, height=2000, fmt="CR3"), 0, False),
    ]
    kept = choose(members, presets.BUILTIN["prefer-original"], range(2))
    assert members[kept.keeper].image.path == str(original)
    assert "the original, not an export" in kept.reason
    kept = choose(members, presets.BUILTIN["prefer-edited"], range(2))
    assert members[kept.keeper].image.path == str(darktable)
    assert "exported from IMG_1234.CR3" in kept.reason


def test_a_derived_from_reference_names_the_group_member_it_points_at(tmp_path):
    # Lightroom writes xmpMM:DerivedFrom as a struct: read its stRef:documentID, not the
    # struct itself as a file name.
    original = write_file(tmp_path / "IMG_5.CR3", b"raw " * 64)
    write_file(tmp_path / "IMG_5.xmp", ORIGINAL_SIDECAR)
    export = write_photo(tmp_path / "edit.jpg", seed=4)
    write_file(
        tmp_path / "edit.jpg.xmp",
        b"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#" xmpMM:DocumentID="xmp.did:9">
   <xmpMM:DerivedFrom rdf:parseType="Resource">
    <stRef:documentID>xmp.did:0A1B</stRef:documentID>
   </xmpMM:DerivedFrom>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
""",
    )
    said = lineage.describe([str(original), str(export)])
    assert said == {str(export): "exported from IMG_5.CR3"}
