"""The advisor's library core: dataset -> profile -> pilots -> recommendation. Knows nothing of gRPC."""
