"""Console routes."""
