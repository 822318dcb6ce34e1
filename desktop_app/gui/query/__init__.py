"""Finding one photo in the library: the query panel and what can be dropped on the window."""
