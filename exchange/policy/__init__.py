"""Authorisation: who may do what. Deny by default."""
