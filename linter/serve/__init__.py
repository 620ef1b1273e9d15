"""``vmsslint serve``: the simulated backend (:mod:`linter.sim.backend`) behind Azure's Compute REST API.

:mod:`linter.serve.world` holds the simulation (sets, clock, operations, faults, persistence) on top of
Backend's public API; :mod:`linter.serve.rest` shapes it as the Compute API answers; :mod:`linter.serve.app`
is the WSGI application (Azure's routes, the login routes az needs, the ``/vmsslint`` control API, on
werkzeug's request and response objects); :mod:`linter.serve.main` starts it on cheroot's HTTP/1.1 server
with a self-signed certificate from :mod:`linter.serve.tls`.  cheroot, werkzeug and cryptography come with
``pip install 'vmsslint[serve]'`` and are imported only here.
"""
