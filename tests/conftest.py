"""Test fixtures live in tests/fixtures/ and load here as plugins."""

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.app", "tests.fixtures.factories"]
