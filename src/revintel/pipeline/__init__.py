"""Pipeline and deal intelligence: pipeline analytics, forecasts with a measured backtest, deal
health, close probability and deal value, expansion scoring, scenarios and competitive win/loss.

Definitions: ``docs/pipeline.md``. Pure modules hold the Ibis expressions and the model math;
``service/`` holds what the faces call, one module per area, with typed results.
"""
