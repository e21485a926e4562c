"""Field-level encryption and keyed blind indexes for personal data (no models)."""
