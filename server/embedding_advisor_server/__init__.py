"""The embedding advisor's service: a gRPC front (``app``, ``servicer``) over a library core (``core``)."""
