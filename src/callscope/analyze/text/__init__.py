"""Text helpers shared by the analyzers: normalisation, spoken numbers, phrase matching."""
