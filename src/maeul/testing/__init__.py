"""Test infrastructure: test settings and a throwaway PostgreSQL server."""
