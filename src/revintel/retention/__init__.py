"""Retention operations' own logic, free of the other capabilities (docs/retention.md).

Pure modules the application layer (``revintel.app.retention``) combines with churn, health, CLV
and metrics: the segment rule language (``rules.py``, text → Ibis expressions, never ``eval``),
clustering for segment discovery (``clustering.py``), the holdout draw (``holdout.py``), sandboxed
campaign templates (``templates.py``), uplift statistics (``uplift.py``), mail and webhook
delivery (``delivery.py``) and the settings (``config.py``).
"""
