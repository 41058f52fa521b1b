"""This machine: the Docker engine, the Lambda Runtime Interface Emulator, and containers run as
Lambda runs them (read-only, non-root, the function's memory and CPU)."""
