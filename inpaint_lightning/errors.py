"""Errors that mean "the run cannot start": the CLI prints their message alone, without a traceback."""


class StartupError(Exception):
    """A wrong path, missing weights or inconsistent setting, detected before any training step."""


class DataNotFoundError(StartupError, FileNotFoundError):
    """A data folder is missing or holds no readable image."""


class MissingWeightsError(StartupError, FileNotFoundError):
    """Pretrained weights are absent and cannot be downloaded."""


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: training stops, and the diverged model is not checkpointed."""


class NonFiniteOutputError(RuntimeError):
    """A model (checkpoint or exported file) produced NaN or infinite pixels: broken weights or an fp16 overflow.
    Refused instead of writing them as garbage pixels."""
