"""The check-function library rules call by name.

The API check functions are written against is :mod:`linter.checks.api` (``check``, ``condition``,
``lookup``, ``fail``, ``unverifiable``, ``why_unknown``); how Azure reads a JSON value (``as_bool``,
``as_number``) is :mod:`linter.checks.readers`.  This package imports the modules that register
the functions: :mod:`~linter.checks.core` (generic comparisons), :mod:`~linter.checks.vmss` (what
only scale sets need), and one module per area (images, network, credentials, ...).
"""

from __future__ import annotations

from linter.checks.api import (CHECKS, CONDITIONS, Target, check, condition, fail, resolve,  # noqa: F401
                               settle, unverifiable, why_unknown)

# register the library
from linter.checks import core, credentials, images, network, osconfig, policy, servicefabric, vmss  # noqa: E402,F401,I001
