"""The workbook's exceptions: each message says what was wrong and how to fix it."""


class WorkbookError(Exception):
    """Base class for every error the helpers raise on purpose."""


class ModelSourceError(WorkbookError):
    """The chosen model source cannot be used (unknown form, unreachable Hub, missing folder...)."""


class PackagedModelError(WorkbookError):
    """The packaged offline model is missing a part or a part is damaged."""


class MessagesError(WorkbookError, ValueError):
    """A messages list is not a non-empty list of {"role", "content"} dicts."""


class ServerError(WorkbookError):
    """A chat server could not be started, reached or used (a taken port, an early exit, a timeout...)."""


class ArgumentError(WorkbookError, TypeError, ValueError):
    """A helper's argument has the wrong type or value (``max_new_tokens="10"``, say); the message names it."""


class PromptTooLong(WorkbookError, ValueError):
    """The prompt and the reply it may grow into do not fit the model's context window."""
