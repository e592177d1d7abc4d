"""Service functions: each authorises, opens the one transaction, changes state and commits once.

Blueprints and scheduler jobs call these; nothing else commits.
"""
