"""Field metadata and pandera models of stagesco's clean tables."""
