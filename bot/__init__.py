"""Kamakura carer consultation bot: Japanese language processing, triage, catalog."""
