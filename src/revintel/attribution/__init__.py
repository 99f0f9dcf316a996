"""Marketing attribution and channel ROI: the heuristic models, Markov chains of order 1-4 and
Shapley values over each journey's touches, journey analytics, spend, ROI and a budget
suggestion, and the ingestion of touches and revenue events.

Definitions: ``docs/attribution.md``. Pure modules hold the Ibis expressions and the model math;
``service/`` holds what the faces call, one module per area, with typed results.
"""
