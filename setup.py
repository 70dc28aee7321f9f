"""Package layout that pyproject.toml cannot express: the top-level ``schemas/`` folder ships
inside the wheel as the resource package ``gateway.schemas``."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["gateway", "gateway.*", "adapters", "adapters.*"]),
        "gateway.schemas",
    ],
    package_dir={"gateway.schemas": "schemas"},
)
