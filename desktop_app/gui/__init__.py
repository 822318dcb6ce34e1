"""The desktop window: a thin Qt layer over :mod:`desktop_app.engine`.

Nothing here hashes, searches or runs SQL; the window drives a
:class:`~desktop_app.engine.library.Library` and a
:class:`~desktop_app.engine.cleanup.Cleanup` and shows what they return.
"""
