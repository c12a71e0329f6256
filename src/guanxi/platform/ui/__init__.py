"""The web shell: base layout, stylesheet, navigation and workbench registries, login and preferences."""
