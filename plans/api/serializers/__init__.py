"""Input and output serializers of the catalog API, by area."""
