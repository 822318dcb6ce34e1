"""Looking closely: the preview and the side-by-side compare with synchronised zoom."""
