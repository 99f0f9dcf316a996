"""The attribution service: what the CLI, the API and the dashboard call, one module per area.

Every function takes a :class:`revintel.core.runtime.Runtime` and returns dataclasses.
"""
