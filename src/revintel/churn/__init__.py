"""Churn prediction: typing customer tables, LightGBM with a logistic baseline, calibrated
probabilities, evaluation, thresholds and ROI, TreeSHAP explanations and what-if (issue 5)."""
