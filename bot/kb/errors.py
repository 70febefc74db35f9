"""The single exception type of the knowledge-base loader."""


class KBError(Exception):
    """A knowledge-base file is missing, unreadable or violates the schema.

    The message always names the file and the key path, e.g.
    ``servers.yml: servers.imap.options[0].port: expected an integer, got 'abc'``.
    """

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")
