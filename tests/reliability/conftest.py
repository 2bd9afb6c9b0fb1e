"""The engine tests' small ToyCity, shared with the reliability tests."""

from tests.engine.conftest import toycity_root  # noqa: F401  (a session fixture)
