"""The ``privault`` command line: a thin shell over the library (DESIGN.md §5)."""
