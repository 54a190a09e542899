"""The embedding advisor's service: a gRPC front (``app``, ``servicer``) over a library core (``core``)."""

from importlib import metadata

try:
    __version__ = metadata.version("embedding-advisor-server")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
