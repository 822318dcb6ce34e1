"""Moving photos safely: requests, the journal, the operation runner, crash recovery, the trash.

Every file operation is journaled before it starts and confirmed after; nothing is
overwritten and everything can be undone.
"""
