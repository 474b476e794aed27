"""Places: the city's gazetteer (address points, intersections, landmarks), what people type turned
into its search form, ranked search, naming a point, the address-grid plug-in and the pluggable
geocoder built on them. docs/places.md explains the whole.
"""
