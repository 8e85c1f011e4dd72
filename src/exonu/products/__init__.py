"""Publication products: figures, tables, HEPData, provenance (plotting kept apart)."""
