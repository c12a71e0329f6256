"""Data in and out of guanxi: imports, exports and the safety rules shared by every spreadsheet file.

For now it holds `spreadsheet_safety` (formula injection); the import/export resources come with the
import/export feature. Nothing here imports Django models, so every app may use it.
"""
