"""Customers: people and organisations, contact points, leads, interactions, tasks, the public pool, handover."""
