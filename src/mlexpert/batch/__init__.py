"""Batch scoring in constant memory: read a table in chunks, predict, write as you go.

>>> import mlexpert
>>> from mlexpert.batch import score_file
>>> model = mlexpert.load("model")                                   # doctest: +SKIP
>>> score_file(model, "big.parquet", "preds.parquet", keep=("id",))  # doctest: +SKIP
BatchSummary(rows=5000000, chunks=50, seconds=41.2, out=PosixPath('preds.parquet'))

For an HTTP response, stream encoded blocks; the first ``next()`` raises any error in
the upload before a byte is sent::

    blocks = iter_prediction_chunks(model, upload, fmt="csv", out_fmt="csv")
    first = next(blocks)                      # DataError -> 4xx
    body = itertools.chain([first], blocks)   # e.g. a StreamingResponse

Chunks get the dtypes the model was trained on (:mod:`mlexpert.batch.conform`), so
chunked scoring predicts what scoring the whole table does.
"""

from .read import DEFAULT_CHUNK_ROWS, TableChunks, iter_table_chunks
from .score import (BatchProgress, BatchSummary, iter_prediction_chunks, iter_predictions,
                    predict_chunk, score_file)
from .write import OUTPUT_FORMATS

__all__ = ["DEFAULT_CHUNK_ROWS", "OUTPUT_FORMATS", "BatchProgress", "BatchSummary", "TableChunks",
           "iter_prediction_chunks", "iter_predictions", "iter_table_chunks", "predict_chunk",
           "score_file"]
