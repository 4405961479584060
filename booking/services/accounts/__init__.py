"""Accounts: people, their roles, babies, tokens and password resets."""
