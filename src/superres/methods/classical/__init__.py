"""Classical (non-learned) SR families: reconstruction, external examples, self-similarity."""
