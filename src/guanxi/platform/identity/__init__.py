"""Identity: users, teams (a tree), roles with permissions and data scopes, API tokens, visible_to()."""
