"""Tests of the Lambda runtime (runtime/)."""
