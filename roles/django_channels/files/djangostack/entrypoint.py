"""The image's entry point: run the command in the project directory, with the overlay settings
and the 12-factor variables (djangostack.prepare), as PID 1 (exec, so that it gets the signals)."""

import os
import sys

from djangostack import prepare


def main(argv: list[str]) -> None:
    layout = prepare(os.environ)
    os.chdir(layout["project_dir"])
    if not argv:
        raise SystemExit("djangostack: no command to run")
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
