"""A request body's Draft 4 schema compiled once to Python, for the fast path's accept decision only.

jsonschema walks the schema for every body: a validator object per sub-schema, a generator per keyword.
`compile_check` turns a schema into nested plain functions that say only whether a body is valid, with
the same rules as Connexion's `Draft4RequestValidator` and its format checker:

- the keywords compiled are `type` and `enum` (with Connexion's `nullable`/`x-nullable`), `properties`,
  `required`, `items` (one schema for every item), `minLength`, `maxLength`, `pattern`, `minimum` and
  `maximum` (with Draft 4's boolean `exclusiveMinimum`/`exclusiveMaximum`), and `format`, which asks the
  validator's own format checker (`conforms`), so every format is judged by the code Connexion runs;
- each applies to the kinds of value jsonschema applies it to (a `minLength` only to strings, ...);
- keywords that validate nothing in Draft 4 (`description`, `default`, `example`, ...) are ignored there
  too.

A schema with any other validating keyword (`$ref`, `allOf`, `additionalProperties`, ...), a type name
Draft 4 does not know, or a validator class whose keyword functions are not the ones this module mirrors
compiles to None, and the caller keeps jsonschema. A body the check refuses goes to Connexion, which
validates it again and answers; so the check only has to agree with jsonschema on what is valid, and
tests/perf compares the two on generated bodies.

A process that builds many apps (a test suite) compiles each distinct schema once: checks are remembered
by the schema's content, the validator class and the format checker with its formats, and compiled from a
private copy of the schema, so that nothing a caller later writes into its schema reaches a check.
"""

from __future__ import annotations

import json
import numbers
import pickle
import re
from collections.abc import Callable
from typing import Any

from connexion.json_schema import NullableEnumValidator, NullableTypeValidator
from jsonschema import FormatChecker, _keywords, _legacy_keywords, _types
from jsonschema._utils import equal

Check = Callable[[Any], bool]

# The Draft 4 keyword functions each compiled keyword mirrors; any other class falls back to jsonschema.
_MIRRORED: dict[str, Any] = {
    "type": NullableTypeValidator,
    "enum": NullableEnumValidator,
    "properties": _keywords.properties,
    "required": _keywords.required,
    "items": _legacy_keywords.items_draft3_draft4,
    "minLength": _keywords.minLength,
    "maxLength": _keywords.maxLength,
    "pattern": _keywords.pattern,
    "minimum": _legacy_keywords.minimum_draft3_draft4,
    "maximum": _legacy_keywords.maximum_draft3_draft4,
    "format": _keywords.format,
}
_DRAFT4_TYPES = {
    "array": _types.is_array,
    "boolean": _types.is_bool,
    "integer": _types.is_integer,
    "null": _types.is_null,
    "number": _types.is_number,
    "object": _types.is_object,
    "string": _types.is_string,
}
# The same tests as _DRAFT4_TYPES, as expressions on `x` (bool is an int in Python, not in JSON).
_TYPE_TESTS = {
    "array": "isinstance(x, list)",
    "boolean": "isinstance(x, bool)",
    "integer": "(isinstance(x, int) and not isinstance(x, bool))",
    "null": "x is None",
    "number": "(isinstance(x, _Number) and not isinstance(x, bool))",
    "object": "isinstance(x, dict)",
    "string": "isinstance(x, str)",
}


class Unsupported(Exception):
    """The schema uses something this module does not compile."""


_COMPILED: dict[tuple[str, Any, FormatChecker | None, tuple[str, ...]], Check | None] = {}
MAX_COMPILED = 256  # distinct body schemas: every served contract's, many times over


def compile_check(schema: Any, validator_class: Any, format_checker: FormatChecker | None) -> Check | None:
    """A function telling whether a body is valid for `schema`, or None when jsonschema must decide."""
    # Connexion writes the whole document's `components` into a body schema, for its `$ref`s. A schema
    # with a `$ref` does not compile, so they never decide a compiled check; they are most of its text.
    if isinstance(schema, dict) and "components" in schema:
        schema = {key: value for key, value in schema.items() if key != "components"}
    formats = tuple(sorted(format_checker.checkers)) if format_checker is not None else ()
    key = (json.dumps(schema, sort_keys=True, default=repr), validator_class, format_checker, formats)
    if key not in _COMPILED:
        if len(_COMPILED) >= MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[key] = _compile(pickle.loads(pickle.dumps(schema)), validator_class, format_checker)
    return _COMPILED[key]


def _compile(schema: Any, validator_class: Any, format_checker: FormatChecker | None) -> Check | None:
    if not _mirrors(validator_class):
        return None
    compiler = _Compiler(set(validator_class.VALIDATORS), format_checker)
    try:
        root = compiler.node(schema)
    except Unsupported:
        return None
    namespace: dict[str, Any] = dict(compiler.constants, _Number=numbers.Number)
    exec("\n".join(compiler.lines), namespace)  # text made here: generated names only, values are constants
    for constant, functions in compiler.dispatch.items():
        namespace[constant] = {key: namespace[function] for key, function in functions.items()}
    check: Check = namespace[root]
    return check


def _mirrors(validator_class: Any) -> bool:
    validators = getattr(validator_class, "VALIDATORS", {})
    checkers = getattr(getattr(validator_class, "TYPE_CHECKER", None), "_type_checkers", {})
    return all(validators.get(k) is f for k, f in _MIRRORED.items()) and dict(checkers) == _DRAFT4_TYPES


class _Compiler:
    def __init__(self, keywords: set[str], format_checker: FormatChecker | None) -> None:
        self.keywords, self.format_checker = keywords, format_checker
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.dispatch: dict[str, dict[str, str]] = {}  # constants naming functions, resolved after exec

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def node(self, schema: Any) -> str:
        """Compiles one (sub)schema to a function; returns the function's name."""
        if not isinstance(schema, dict):
            raise Unsupported("a schema that is not an object")
        unknown = (set(schema) & self.keywords) - set(_MIRRORED)
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        nullable = schema.get("x-nullable") is True or bool(schema.get("nullable"))
        body: list[str] = []
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not names or not all(isinstance(n, str) and n in _TYPE_TESTS for n in names):
                raise Unsupported(f"type {schema['type']!r}")
            test = " or ".join(_TYPE_TESTS[n] for n in names)
            body.append(f"if not ({'x is None or ' if nullable else ''}{test}): return False")
        if "enum" in schema:
            body += self._enum(schema["enum"], nullable)
        if "format" in schema and self.format_checker is not None:
            body.append(
                f"if not {self.constant(self.format_checker.conforms)}(x, {self.constant(schema['format'])}):"
                " return False"
            )
        body += self._string(schema)
        body += self._number(schema)
        body += self._object(schema)
        body += self._array(schema)
        name = f"_s{len(self.lines)}"
        self.lines += [f"def {name}(x):", *(f"    {line}" for line in body), "    return True"]
        return name

    def _enum(self, members: Any, nullable: bool) -> list[str]:
        if not isinstance(members, list):
            raise Unsupported("enum that is not a list")
        allowed = "x is None or " if nullable else ""
        if all(isinstance(m, str) for m in members):
            # `equal` compares a string member with ==: only an equal string matches it.
            return [
                f"if not ({allowed}(isinstance(x, str) and x in {self.constant(frozenset(members))})): return False"
            ]
        equals, listed = self.constant(equal), self.constant(tuple(members))
        return [f"if not ({allowed}any({equals}(m, x) for m in {listed})): return False"]

    def _string(self, schema: dict[str, Any]) -> list[str]:
        tests = []
        if "minLength" in schema:
            tests.append(f"len(x) < {self.constant(schema['minLength'])}")
        if "maxLength" in schema:
            tests.append(f"len(x) > {self.constant(schema['maxLength'])}")
        if "pattern" in schema:
            tests.append(f"not {self.constant(re.compile(schema['pattern']).search)}(x)")
        return [f"if isinstance(x, str) and ({' or '.join(tests)}): return False"] if tests else []

    def _number(self, schema: dict[str, Any]) -> list[str]:
        tests = []
        if "minimum" in schema:
            below = "<=" if schema.get("exclusiveMinimum", False) else "<"
            tests.append(f"x {below} {self.constant(schema['minimum'])}")
        if "maximum" in schema:
            above = ">=" if schema.get("exclusiveMaximum", False) else ">"
            tests.append(f"x {above} {self.constant(schema['maximum'])}")
        if not tests:
            return []
        return [f"if {_TYPE_TESTS['number']} and ({' or '.join(tests)}): return False"]

    def _object(self, schema: dict[str, Any]) -> list[str]:
        lines = []
        if "required" in schema:
            required = self.constant(tuple(schema["required"]))
            lines.append(f"if isinstance(x, dict) and not all(p in x for p in {required}): return False")
        if "properties" in schema:
            properties = schema["properties"]
            if not isinstance(properties, dict):
                raise Unsupported("properties that are not an object")
            checks = self.constant(None)
            self.dispatch[checks] = {name: self.node(sub) for name, sub in properties.items()}
            # Only the properties the body has are checked: the same pairs jsonschema visits.
            lines += [
                "if isinstance(x, dict):",
                "    for p, v in x.items():",
                f"        c = {checks}.get(p)",
                "        if c is not None and not c(v): return False",
            ]
        return lines

    def _array(self, schema: dict[str, Any]) -> list[str]:
        if "items" not in schema:
            return []
        if not isinstance(schema["items"], dict):
            raise Unsupported("items that are not one schema")
        item = self.node(schema["items"])
        return [f"if isinstance(x, list) and not all({item}(i) for i in x): return False"]
