"""Free-text columns: TF-IDF (sparse, for linear models) or its SVD (dense, for the rest)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from ._frame import as_strings


class TextBlock(TransformerMixin, BaseEstimator):
    """Per text column: TF-IDF of words and word pairs, plus length statistics.

    ``svd_components`` > 0 compresses the TF-IDF matrix into that many dense components.
    """

    def __init__(self, *, svd_components: int = 0, max_features: int = 30_000, random_state: int = 0):
        self.svd_components = svd_components
        self.max_features = max_features
        self.random_state = random_state

    @staticmethod
    def _docs(col: pd.Series) -> list[str]:
        return ["" if v is None else v for v in as_strings(col)]

    def fit(self, X: pd.DataFrame, y=None):
        self.vectorizers_, self.svds_ = [], []
        for c in X.columns:
            docs = self._docs(X[c])
            vec = TfidfVectorizer(
                sublinear_tf=True, ngram_range=(1, 2), min_df=2 if len(docs) > 50 else 1,
                max_features=self.max_features, dtype=np.float32,
            )
            try:
                tfidf = vec.fit_transform(docs)
            except ValueError:  # empty vocabulary
                vec = None
                tfidf = None
            self.vectorizers_.append(vec)
            svd = None
            if vec is not None and self.svd_components:
                k = min(self.svd_components, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
                if k >= 1:
                    svd = TruncatedSVD(n_components=k, random_state=self.random_state).fit(tfidf)
            self.svds_.append(svd)
        return self

    def transform(self, X: pd.DataFrame):
        parts = []
        for c, vec, svd in zip(X.columns, self.vectorizers_, self.svds_):
            docs = self._docs(X[c])
            lengths = np.array([[np.log1p(len(d)), np.log1p(len(d.split()))] for d in docs],
                               dtype=np.float32).reshape(len(docs), 2)
            parts.append(lengths)
            if vec is None:
                continue
            tfidf = vec.transform(docs)
            if self.svd_components:
                if svd is not None:
                    parts.append(svd.transform(tfidf).astype(np.float32))
            else:
                parts.append(tfidf)
        if any(sp.issparse(p) for p in parts):
            return sp.hstack([sp.csr_matrix(p) for p in parts], format="csr")
        return np.hstack(parts) if parts else np.empty((len(X), 0), dtype=np.float32)
