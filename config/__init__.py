"""craflow settings: one typed, documented place for every tunable."""
