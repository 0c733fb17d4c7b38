"""Patterns found by running cgformat over public test corpora, each recreated as a fixture of our own."""
