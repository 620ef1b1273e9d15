"""vmsslint: lint, generate and plan Azure VM scale set templates for automatic OS image upgrades."""

__version__ = "0.1.0"
