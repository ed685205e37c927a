"""Test harness helpers that live outside the product package (not shipped in the wheel)."""
