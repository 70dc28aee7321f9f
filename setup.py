"""Package layout that pyproject.toml cannot express: the top-level ``schemas/`` folder ships
inside the wheel as the resource package ``gateway.schemas``; the data folders inside the
code (templates, static files, JSON-LD contexts, Java sources) are namespace packages, so
their files ship by the ``package-data`` patterns of ``pyproject.toml``."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(
            include=["gateway", "gateway.*", "adapters", "adapters.*"],
            exclude=["*.__pycache__"],
        ),
        "gateway.schemas",
    ],
    package_dir={"gateway.schemas": "schemas"},
)
