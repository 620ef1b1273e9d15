"""The ``vmsslint`` entry point.

``vmsslint lint ...`` with a fully valid command line runs without importing click (see
:mod:`linter.options`); everything else — other commands, ``--help``, any usage error — is
handled by the click application in :mod:`linter.cli`.
"""

from __future__ import annotations

import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lint":
        from linter.options import fast_parse
        params = fast_parse(argv[1:])
        if params is not None:
            from linter import lintcmd
            try:
                prepared = lintcmd.prepare(params)
            except lintcmd.CommandError:
                prepared = None  # click reports it, with the usage text where it belongs
            if prepared is not None:
                try:
                    code = lintcmd.run_guarded(params, prepared)
                except KeyboardInterrupt:
                    code = 130
                except BrokenPipeError:
                    code = 1
                sys.exit(code)
    from linter.cli import main as click_main
    click_main(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
