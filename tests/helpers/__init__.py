"""The test builders: ids, the fake clock, the booted bot, and a builder per feature (README.md says which)."""
