"""hcekit's conformance suite, run against the loyalty plugin."""

from hcekit.conformance.pytest_support import conformance_tests

test_conformance = conformance_tests("hcekit_loyalty:LoyaltyPlugin")
