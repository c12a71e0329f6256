"""Settings packages: base (shared), dev (default), test and production."""
