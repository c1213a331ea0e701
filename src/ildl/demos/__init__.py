"""The collection's experiments as functions: each returns its results so the CLI, the gallery
and the notebooks run the very same code."""
