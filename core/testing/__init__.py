"""Test support shared by the test suite and the offline demo."""
