"""Why the model predicts what it does: permutation importance, tree SHAP values, partial
dependence, and per-row explanations (``mlexpert explain``)."""
