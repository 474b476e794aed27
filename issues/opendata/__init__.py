"""Open data: the dataset page, CSV and GeoJSON downloads, Atom feeds and the embeddable map."""
