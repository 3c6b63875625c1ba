"""The ``promote`` and ``add-version`` commands, on real files in temporary repositories."""
