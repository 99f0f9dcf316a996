"""Customer lifetime value: the sBG retention model, CLV per group and customer, RFM."""
