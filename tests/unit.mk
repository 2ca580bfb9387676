# (empty: filled by its owner)
