"""The input bounds of app/http/input_bounds.py, stated on every operation's path and query
parameters in the OpenAPI document.

The bounds middleware applies them to every route without any declaration in the handlers, so
the generator, which reads the handlers' signatures, would not know them: a client generated
from the document would send ids of 0 or dates in year 1 and be refused. `BoundedOperation` is
the operation class of every API route (set by app/http/openapi_problems.py's pass); as the
document is built it writes the same bounds the middleware enforces into each parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import msgspec.inspect
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.typing import FieldDefinition

from app.http.csv_stream import CSV_MEDIA_TYPE
from app.http.input_bounds import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_ID,
    MAX_OFFSET,
    MAX_QUERY_INT,
    SINGLE_LINE_PATTERN,
)

if EARLIEST_DATE.year != 1900 or LATEST_DATE.year != 2199:  # pragma: no cover - a guard on the pattern below
    raise RuntimeError("DATE_PATTERN spells out the years 1900-2199; change it with the bounds")
# The calendar's range as a pattern, since JSON Schema cannot bound a date's value.
DATE_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATE_TIME_PATTERN = (
    r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
)


def _value_schemas(schema: Schema) -> list[Schema]:
    """The schemas a present value must match: an optional parameter is `oneOf [T, null]`."""
    if schema.one_of:
        return [s for s in schema.one_of if isinstance(s, Schema) and s.type != OpenAPIType.NULL]
    return [schema]


def _bound(parameter: Parameter) -> None:
    if not isinstance(parameter.schema, Schema):
        return
    for schema in _value_schemas(parameter.schema):
        if schema.type == OpenAPIType.INTEGER:
            if parameter.param_in == "path":
                low, high = 1, MAX_ID
            else:
                low, high = 0, MAX_OFFSET if parameter.name == "offset" else MAX_QUERY_INT
            schema.minimum = low if schema.minimum is None else max(low, schema.minimum)
            schema.maximum = high if schema.maximum is None else min(high, schema.maximum)
        elif schema.type == OpenAPIType.STRING and schema.pattern is None:
            if schema.format == OpenAPIFormat.DATE:
                schema.pattern = DATE_PATTERN
            elif schema.format == OpenAPIFormat.DATE_TIME:
                schema.pattern = DATE_TIME_PATTERN
            elif schema.enum is None and parameter.schema.enum is None:
                schema.pattern = SINGLE_LINE_PATTERN


@dataclass
class BoundedOperation(Operation):
    """An operation whose parameters carry the service's input bounds."""

    def __post_init__(self) -> None:
        for parameter in self.parameters or ():
            if isinstance(parameter, Parameter):
                _bound(parameter)
                if parameter.name == "format" and parameter.param_in == "query":
                    self._also_csv()

    def _also_csv(self) -> None:
        """A report with `?format=csv` answers its table as CSV (app/http/csv_stream.py) besides JSON."""
        for status, response in (self.responses or {}).items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse) and response.content:
                response.content.setdefault(
                    CSV_MEDIA_TYPE, OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
                )


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """A body struct that refuses unknown fields (`forbid_unknown_fields=True`, as every input
    struct here does) says so in its schema (`additionalProperties: false`), so a client is told
    that an extra field is refused rather than ignored."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        info = msgspec.inspect.type_info(field_definition.type_)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _exact(prop, field.type)
        return schema


def _exact(schema: Schema, info: msgspec.inspect.Type) -> None:
    """Write a body field's msgspec constraints into its schema where the generator left them out
    (an optional field's, a list item's) or wrote them inexactly (64-bit bounds as floats: 2^63 - 1
    rounds up past the bound). A value the document already states is kept: a stripped text's
    documented limit is the service's, tighter than the decoder's."""
    if isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        present = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        for value in _value_schemas(schema):
            if value is not schema:
                # What the field documents for itself (a stripped text's own limit) binds the value:
                # stated beside `oneOf`, a generator may read only the branch.
                for name in ("max_length", "min_length", "pattern", "enum"):
                    if getattr(schema, name) is not None and value.type == OpenAPIType.STRING:
                        setattr(value, name, getattr(schema, name))
            for member in present:
                _exact(value, member)
        return
    if isinstance(info, msgspec.inspect.IntType) and schema.type == OpenAPIType.INTEGER:
        low = info.ge if info.ge is not None else None if info.gt is None else info.gt + 1
        high = info.le if info.le is not None else None if info.lt is None else info.lt - 1
        if low is not None and (schema.minimum is None or isinstance(schema.minimum, float)):
            schema.minimum = low
        if high is not None and (schema.maximum is None or isinstance(schema.maximum, float)):
            schema.maximum = high
    elif isinstance(info, msgspec.inspect.StrType) and schema.type == OpenAPIType.STRING:
        schema.min_length = info.min_length if schema.min_length is None else schema.min_length
        schema.max_length = info.max_length if schema.max_length is None else schema.max_length
        schema.pattern = info.pattern if schema.pattern is None else schema.pattern
    elif isinstance(info, msgspec.inspect.DateType | msgspec.inspect.DateTimeType):
        if schema.type == OpenAPIType.STRING and schema.pattern is None:
            date_only = isinstance(info, msgspec.inspect.DateType)
            schema.pattern = DATE_PATTERN if date_only else DATE_TIME_PATTERN
    elif isinstance(info, msgspec.inspect.ListType) and schema.type == OpenAPIType.ARRAY:
        schema.min_items = info.min_length if schema.min_items is None else schema.min_items
        schema.max_items = info.max_length if schema.max_items is None else schema.max_items
        if isinstance(schema.items, Schema):
            _exact(schema.items, info.item_type)
