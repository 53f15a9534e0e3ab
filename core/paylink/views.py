"""Pay-link routes."""
