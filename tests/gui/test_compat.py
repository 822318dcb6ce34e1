"""The installed Qt binding is one the window can run on (see compat.py)."""

from desktop_app.gui.common.compat import binding_problem


def test_the_qt_binding_keeps_its_references():
    assert binding_problem() is None
