"""The payment plugin passes hcekit's plugin conformance suite (secrets, restarts, errors …)."""

from hcekit.conformance.pytest_support import conformance_tests

test_conformance = conformance_tests("hcekit_payment:PaymentPlugin")
