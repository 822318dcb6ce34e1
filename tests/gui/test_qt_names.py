"""No attribute of our Qt classes hides a method, signal or property Qt already has.

``self.move = QRadioButton(...)`` on a dialog replaces ``QWidget.move()`` for every
Python caller, and ``self.actions = ...`` on a window replaces ``QWidget.actions()``;
nothing fails until someone calls them. This reads each class's ``self.<name> = ``
assignments, so it also covers dialogs no test opens.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

from PySide6.QtCore import QObject

import desktop_app.gui


def _qt_classes():
    for info in pkgutil.walk_packages(desktop_app.gui.__path__, "desktop_app.gui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, QObject) and cls.__module__ == module.__name__:
                yield cls


def _assigned_names(cls: type) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(inspect.getsource(cls))):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if (
                    isinstance(part, ast.Attribute)
                    and isinstance(part.value, ast.Name)
                    and part.value.id == "self"
                ):
                    names.add(part.attr)
    return names


def test_no_attribute_hides_a_qt_name():
    classes = list(_qt_classes())
    assert len(classes) > 20  # the walk found the window, the dialogs and the models
    hidden = []
    for cls in classes:
        qt_base = next(b for b in cls.__mro__ if b.__module__.startswith("PySide6"))
        hidden += [f"{cls.__qualname__}.{n}" for n in _assigned_names(cls) if hasattr(qt_base, n)]
    assert hidden == []
