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

from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.typing import FieldDefinition

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
        for prop in (schema.properties or {}).values():
            if isinstance(prop, Schema):
                _tighten(prop)
        return schema


def _tighten(schema: Schema) -> None:
    """A body field's schema, as the service bounds it: 64-bit integers stated exactly (the
    generator writes them as floats, and 2^63 - 1 as a float rounds up past the bound), and dates
    in the calendar's range."""
    for value in _value_schemas(schema):
        if value.type == OpenAPIType.INTEGER:
            if isinstance(value.maximum, float) and value.maximum >= MAX_ID:
                value.maximum = MAX_ID
            if isinstance(value.minimum, float) and value.minimum.is_integer():
                value.minimum = int(value.minimum)
        elif value.type == OpenAPIType.STRING and value.pattern is None:
            if value.format == OpenAPIFormat.DATE:
                value.pattern = DATE_PATTERN
            elif value.format == OpenAPIFormat.DATE_TIME:
                value.pattern = DATE_TIME_PATTERN
        elif value.type == OpenAPIType.ARRAY and isinstance(value.items, Schema):
            _tighten(value.items)
