"""hcekit's conformance suite, run against the eMRTD plugin."""

from hcekit.conformance.pytest_support import conformance_tests

test_conformance = conformance_tests("hcekit_mrtd:MrtdPlugin")
