"""One APIView per operation, by area."""
