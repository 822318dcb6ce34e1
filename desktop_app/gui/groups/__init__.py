"""Groups of copies: the model, the card view, thumbnails, the threshold slider and marks."""
