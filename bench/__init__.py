"""The benchmark: the product against a bare Flask endpoint in the same run."""
