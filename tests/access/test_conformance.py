"""hcekit's conformance suite, run against the access badge plugin."""

from hcekit.conformance.pytest_support import conformance_tests

test_conformance = conformance_tests("hcekit_access:AccessPlugin")
