"""The English catalogue: each module here holds one area's ``MESSAGES`` (``exercises``, ``widget``, ...)."""
