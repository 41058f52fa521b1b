"""Talking to AWS (or an emulator of its APIs): clients, the ECR push, functions, versions,
aliases and canaries, invocations; the SAM template and the deploy policy live here too."""
