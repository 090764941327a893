"""The errors a user can fix from the command line: the CLI prints them as one line and
exits with status 2 (ConfigError, a damaged run file, a refused request)."""


class UserError(ValueError):
    """A request that cannot be carried out as asked; the message names what is wrong
    (file, field, expected vs got) and, where there is one, the fix."""
