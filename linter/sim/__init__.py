"""The simulated backend and the rollout planner behind ``vmsslint plan``.

:mod:`linter.sim.backend` is the orchestrator (independent of the CLI); :mod:`linter.sim.plan`
builds a template's scale sets on it and runs rollouts; :mod:`linter.sim.report` renders them.
"""
