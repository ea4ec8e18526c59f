"""Library chatter off the terminal: the toolkit says what happened, once, in its own words.

MLflow prints registry notes ("Successfully registered model …") straight to stderr; Prefect logs every
task to the console and, when a task raises an error the toolkit then reports in one line, a full
traceback. Unless --verbose, both are silenced here, in one place. Prefect's logs still reach its API
(the flow-run pages of the Prefect UI); only the console copy goes.
"""

from __future__ import annotations

import logging
import sys


def quiet_libraries(verbose: bool) -> None:
    """Silence the console output of the libraries already imported (call it after importing them)."""
    if verbose:
        return
    if "mlflow" in sys.modules:
        from mlflow.utils.logging_utils import disable_logging

        # the stream behind MLflow's prints (eprint) and its loggers; mlflow leaves this function unannotated
        disable_logging()  # type: ignore[no-untyped-call]
        logging.getLogger("mlflow").setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:  # Prefect hangs its console handler on the root logger
        if type(handler).__name__ == "PrefectConsoleHandler":
            handler.setLevel(logging.CRITICAL)
