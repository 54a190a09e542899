"""Generated protobuf and gRPC modules of embedding_advisor.v1 (built from proto/ at install time)."""
