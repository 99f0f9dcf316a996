"""Use cases the faces share, and the only place capabilities meet."""

from revintel.app import wiring as _wiring

_wiring.wire()
