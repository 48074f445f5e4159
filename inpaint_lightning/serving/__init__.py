"""HTTP service and painting page: :func:`create_app` (FastAPI), ``python -m inpaint_lightning serve``."""

from inpaint_lightning.serving.app import create_app

__all__ = ["create_app"]
