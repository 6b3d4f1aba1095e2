"""Loaded by schemathesis (tools/openapi/schemathesis.toml, `hooks`) before a run.

CPython 3.11 before 3.11.8 can raise `SystemError: AST constructor recursion depth mismatch` from
`ast.parse` when it is called deep in a recursion (python/cpython gh-106905). Hypothesis calls it
to describe a lambda for a message, from deep inside schemathesis's coverage phase, and the whole
operation then ends in a "Runtime Error" that says nothing about the API under test. A lambda
whose source cannot be parsed is described as Hypothesis describes any it cannot parse.
"""

import sys

from hypothesis.internal import lambda_sources

if sys.version_info < (3, 11, 8) or (3, 12) <= sys.version_info < (3, 12, 1):
    _describe = lambda_sources._lambda_description

    def _lambda_description(f, *args, **kwargs):
        try:
            return _describe(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources._lambda_description = _lambda_description
