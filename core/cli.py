"""Command-line interface."""


def init_app(app) -> None:
    pass
