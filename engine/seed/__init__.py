"""Seed data: regions, central instansi and demo users."""
