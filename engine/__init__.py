"""The LAPOR Flow domain: reports, instansi, process definitions and instances, human tasks.

Only `engine.runtime` imports SpiffWorkflow; services in `engine.services` own every transaction.
"""
