"""The request schema of a model: one typed field per input column, built from its Schema.

Every feature column is a required field that may be ``null`` (a missing value); numbers
must be finite; dates must parse. Columns the model does not use (identifiers, constants,
ignored columns, the target) are accepted and ignored; any other field is refused, so a
misspelt column name never silently becomes a missing value.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional, Union

import pandas as pd
from pydantic import (AfterValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr,
                      TypeAdapter, ValidationError, create_model)

from ..data.schema import DROPPED_KINDS, Schema
from ..features.datetime import to_datetime
from .errors import RequestError

MAX_LISTED_ERRORS = 50


def _parses_as_date(value: str | None) -> str | None:
    if value is not None and pd.isna(to_datetime(pd.Series([value])).iloc[0]):
        raise ValueError("not a date or date-time (use ISO 8601, e.g. 2024-05-31T14:00:00)")
    return value


_FINITE = Field(allow_inf_nan=False)
_TYPES: dict[str, Any] = {
    "numeric": Optional[Annotated[float, _FINITE]],
    "boolean": Optional[bool],
    "categorical": Optional[Union[StrictStr, StrictInt, Annotated[StrictFloat, _FINITE], StrictBool]],
    "high_cardinality": Optional[Union[StrictStr, StrictInt, Annotated[StrictFloat, _FINITE], StrictBool]],
    "datetime": Annotated[Optional[str], AfterValidator(_parses_as_date)],
    "text": Optional[str],
}
_DESCRIBE = {
    "numeric": "a number", "boolean": "true/false (or yes/no)",
    "categorical": "a category", "high_cardinality": "a category (many levels)",
    "datetime": "a date or date-time (ISO 8601)", "text": "free text",
}


class RecordSchema:
    """Validates JSON records for one model (and turns them into a DataFrame)."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.features = schema.features
        self.kinds = {c.name: c.kind for c in schema.columns}
        fields: dict[str, Any] = {}
        for i, col in enumerate(schema.columns):
            if col.kind in DROPPED_KINDS:
                fields[f"c{i}"] = (Optional[Any], Field(None, alias=col.name,
                                                        description=f"ignored by the model ({col.kind})"))
            else:
                fields[f"c{i}"] = (_TYPES[col.kind], Field(..., alias=col.name, **_field_doc(col)))
        if schema.target not in self.kinds:
            fields["target"] = (Optional[Any], Field(None, alias=schema.target,
                                                     description="the target: ignored"))
        config = ConfigDict(extra="forbid", populate_by_name=False)
        self.model = create_model("Record", __config__=config, **fields)
        self._many = TypeAdapter(list[self.model])

    def json_schema(self) -> dict:
        return self.model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")

    def describe(self) -> list[dict]:
        """The feature columns for people: name, kind, what to send, and known categories."""
        return [{"name": c.name, "kind": c.kind, "expects": _DESCRIBE[c.kind],
                 "categories": [str(v) for v in c.categories][:50],
                 "missing_fraction": c.missing_fraction}
                for c in self.schema.columns if c.kind not in DROPPED_KINDS]

    def parse_body(self, body: bytes, max_rows: int) -> list[dict]:
        """JSON bytes (one record, or a list of them) to validated records."""
        try:
            payload = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise RequestError(400, f"The request body is not valid JSON: {exc}.") from None
        return self.records(payload, max_rows)

    def records(self, payload, max_rows: int) -> list[dict]:
        """One record (a JSON object) or a list of them, validated: dicts by column name."""
        rows = [payload] if isinstance(payload, dict) else payload
        if not isinstance(rows, list):
            raise RequestError(422, "Send one record (a JSON object with one field per column) "
                                    "or a list of records.")
        if not rows:
            raise RequestError(422, "The list of records is empty; send at least one record.")
        if len(rows) > max_rows:
            raise RequestError(413, f"{len(rows)} records in one request; the limit is {max_rows}. "
                                    "Split the request or use POST /predict/batch with a file.")
        try:
            records = self._many.validate_python(rows)
        except ValidationError as exc:
            raise _invalid(exc) from None
        return [r.model_dump(by_alias=True) for r in records]

    def frame(self, records: list[dict]) -> pd.DataFrame:
        """Validated records as a DataFrame of the feature columns."""
        return pd.DataFrame.from_records(records, columns=self.features)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number; send null for a missing value")


def _field_doc(col) -> dict:
    doc = {"description": f"{_DESCRIBE[col.kind]} ({col.kind}); null when missing"}
    if col.categories:
        doc["examples"] = [v for v in col.categories[:5] if isinstance(v, (str, int, float, bool))]
    return doc


def _invalid(exc: ValidationError) -> RequestError:
    details, seen = [], set()
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        row = loc.pop(0) if loc and isinstance(loc[0], int) else None
        # Union members add their type names to the location: keep the column name only,
        # and one problem per row and field.
        field = str(loc[0]) if loc else None
        if (row, field) in seen:
            continue
        seen.add((row, field))
        problem = "unknown field (not a column of this model)" if err["type"] == "extra_forbidden" \
            else "required field is missing (send null for a missing value)" if err["type"] == "missing" \
            else err["msg"].removeprefix("Value error, ")
        details.append({"row": row, "field": field, "message": problem})
    first, total = details[0], len(details)
    details = details[:MAX_LISTED_ERRORS]
    where = f"row {first['row']}" + (f", field {first['field']!r}" if first["field"] else "")
    more = f" (and {total - 1} more problems)" if total > 1 else ""
    return RequestError(422, f"Invalid input at {where}: {first['message']}{more}.", details)
