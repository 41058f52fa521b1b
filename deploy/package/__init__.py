"""Lambda artifacts built from a model file: the lean image, its base (AWS's or a local stand-in),
and the wheels fetched on the host for the Python inside them."""
