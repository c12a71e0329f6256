"""Platform core: base model, value types, domain errors, background jobs, normalisers."""
