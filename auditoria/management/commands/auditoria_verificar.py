"""`manage.py auditoria_verificar`: recompute the audit chain; exit 1 naming the first broken
record if anything was altered or deleted."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from auditoria.services import cadena_verificar


class Command(BaseCommand):
    help = "Verifica la cadena de hashes de la auditoría y nombra el primer registro alterado."

    def handle(self, *args, **options):
        v = cadena_verificar()
        if v.roto_id is not None or v.motivo:
            donde = f"en el registro {v.roto_id}" if v.roto_id is not None else "al final"
            raise CommandError(f"Cadena rota {donde}: {v.motivo} ({v.registros} revisados).")
        self.stdout.write(f"Cadena íntegra: {v.registros} registros.")
