"""Developer tools: synthetic calls of the bundled profiles and ASR-noisy variants of labeled sets."""
