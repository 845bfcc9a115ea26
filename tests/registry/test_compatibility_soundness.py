"""Soundness of the verdict, by search: whenever the walker calls a change BACKWARD
compatible, no document valid under the old schema may be invalid under the new one."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.registry import CompatibilityLevel, RecordValidator, check_compatibility

NAMES = ["a", "b", "c"]
SMALL = st.integers(min_value=-2, max_value=3)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | SMALL
    | st.sampled_from([0.5, 2.0, -1.5])
    | st.text(alphabet="ab1", max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(NAMES), children)
    ),
    max_leaves=6,
)

leaf_schemas = st.one_of(
    st.booleans(),
    st.just({}),
    st.sampled_from(["string", "integer", "number", "null", "boolean"]).map(
        lambda kind: {"type": kind}
    ),
    SMALL.map(lambda n: {"maxLength": abs(n)}),
    SMALL.map(lambda n: {"minLength": abs(n)}),
    SMALL.map(lambda n: {"minimum": n}),
    SMALL.map(lambda n: {"exclusiveMaximum": n}),
    st.sampled_from([1, 2, 0.5]).map(lambda n: {"multipleOf": n}),
    st.lists(json_values, max_size=3).map(lambda values: {"enum": values}),
    st.sampled_from(["^a", "b$", "^(a+)+$"]).map(lambda p: {"pattern": p}),
)


# Schemas are drawn in pairs (old, new) that mostly agree, so that each pair differs in a
# few places only: that is where a wrong verdict would show.
Pair = tuple[Any, Any]

leaf_pairs = st.one_of(
    leaf_schemas.map(lambda schema: (schema, schema)),
    st.tuples(leaf_schemas, leaf_schemas),
)


def same_or_changed(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Pair]:
    return values.map(lambda value: (value, value)) | st.tuples(values, values)


def object_pairs(children: st.SearchStrategy[Pair]) -> st.SearchStrategy[Pair]:
    def build(properties: dict[str, Pair], required: Pair, additional: Pair) -> Pair:
        def side(index: int) -> dict[str, Any]:
            return {
                "type": "object",
                "properties": {
                    name: pair[index]
                    for name, pair in properties.items()
                    if pair[index] is not None
                },
                "required": required[index],
                "additionalProperties": additional[index],
            }

        return side(0), side(1)

    optional_children = children | st.tuples(st.none(), children.map(lambda pair: pair[1]))
    optional_children |= st.tuples(children.map(lambda pair: pair[0]), st.none())
    return st.builds(
        build,
        st.dictionaries(st.sampled_from(NAMES), optional_children, max_size=3),
        same_or_changed(st.lists(st.sampled_from(NAMES), unique=True, max_size=2)),
        same_or_changed(st.booleans()) | children,
    )


def array_pairs(children: st.SearchStrategy[Pair]) -> st.SearchStrategy[Pair]:
    return st.builds(
        lambda items, bound: (
            {"type": "array", "items": items[0], "maxItems": bound[0]},
            {"type": "array", "items": items[1], "maxItems": bound[1]},
        ),
        children,
        same_or_changed(st.integers(min_value=0, max_value=3)),
    )


schema_pairs = st.recursive(
    leaf_pairs,
    lambda children: object_pairs(children) | array_pairs(children),
    max_leaves=5,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=schema_pairs, documents=st.lists(json_values, min_size=1, max_size=8))
def test_backward_compatible_verdict_never_refuses_an_old_valid_document(pair, documents):
    old, new = pair
    if not check_compatibility(CompatibilityLevel.BACKWARD, new, [old]).compatible:
        return
    old_validator, new_validator = RecordValidator(old), RecordValidator(new)
    for document in documents:
        if not old_validator.errors_for(document):
            assert new_validator.errors_for(document) == [], (old, new, document)
