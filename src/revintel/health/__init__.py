"""Account health: pillars, scores, playbooks and capital at risk (docs/health.md)."""
