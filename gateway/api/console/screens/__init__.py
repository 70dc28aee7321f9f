"""One module per console screen, each exposing ``SCREEN`` (see ``gateway.api.console``)."""
