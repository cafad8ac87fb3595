"""Monitoring a deployed model: the reference profile saved at fit time, drift statistics,
the prediction log and outcome feedback, and the ``mlexpert monitor`` report."""
