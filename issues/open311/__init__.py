"""The Open311 GeoReport v2 API: urls, views, serialisers (JSON and XML), errors."""
