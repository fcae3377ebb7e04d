"""The runs layer: overrides, variants, fingerprints, saved state and sweeps."""
