"""Use cases the faces share, and the only place capabilities meet."""
