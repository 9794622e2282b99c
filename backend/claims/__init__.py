"""Claim-level uncertainty: an answer split into claims, and each claim's scores (CCP, LUQ support, token stats)."""
