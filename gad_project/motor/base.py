"""PostGIS engine whose connections carry the row-level security context (gad_project.rls)."""

from __future__ import annotations

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper

from gad_project import rls


class DatabaseWrapper(PostGISDatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The context set in the current transaction (None outside one, or not yet set).
        self.rls_aplicado: rls.Contexto | None = None
        # Whether the connection's role bypasses the policies: None, as its settings' role does
        # (gad_project.rls); a test that switches role says so here.
        self.rls_exenta: bool | None = None
        self.execute_wrappers.append(rls.envoltura)

    # Transaction-local settings end with the transaction, or revert with a savepoint.
    def _commit(self):
        try:
            return super()._commit()
        finally:
            self.rls_aplicado = None

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self.rls_aplicado = None

    def _savepoint_rollback(self, sid):
        try:
            return super()._savepoint_rollback(sid)
        finally:
            self.rls_aplicado = None

    def connect(self):
        self.rls_aplicado = None
        return super().connect()

    def _close(self):
        self.rls_aplicado = None
        return super()._close()
