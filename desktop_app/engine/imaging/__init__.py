"""Reading photos of every format and turning them into features: EXIF, borders, the hashes.

Nothing here knows the catalog: a file goes in, an :class:`~desktop_app.engine.types.ImageFeatures`
(or an :class:`~desktop_app.engine.errors.UnreadableImage`) comes out.
"""
