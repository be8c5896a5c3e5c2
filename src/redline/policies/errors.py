"""Small named exceptions for the policy domain."""


class RedlineError(Exception):
    """Base class for every error Redline reports to a person."""


class InvalidFrontMatter(RedlineError):
    """A version file's front matter cannot be read."""


class InvalidPolicy(RedlineError):
    """A policy or version is malformed (bad slug, missing field, bad date)."""


class ImmutableVersion(RedlineError):
    """An attempt to change a published version."""


class NotFound(RedlineError):
    """No such policy or version."""


class Conflict(RedlineError):
    """The data changed underneath the request (a newer version exists)."""


class InvalidAccount(RedlineError):
    """Sign-up or password data that cannot be accepted (bad email, short password)."""


class EmailTaken(Conflict):
    """An account with this email address already exists."""


class AcceptanceRefused(RedlineError):
    """An acceptance that cannot be recorded: not the version now required, or not acceptable."""
