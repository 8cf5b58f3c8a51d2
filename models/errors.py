"""The project's one user-error class."""


class UsageError(Exception):
    """A problem with the user's flags or files, reported as one line naming the flag or
    file and what is wrong; each command prints it as `PROG: error: MESSAGE`."""
