"""Hypothesis strategies shared by the playground's fuzz tests."""

from hypothesis import strategies as st

# Any value JSON can carry, nested a little: what a page (or anyone) could send.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=10)
