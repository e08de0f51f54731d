"""A new key for the personal data encrypted at rest (gad_project.cifrado): a whole new key file
(`--archivo RUTA`, refused if it exists), or a new Fernet key put first in CIFRADO_CLAVES_FILE
(`--agregar`, the first step of a rotation: see cifrado_rotar)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gad_project import cifrado


class Command(BaseCommand):
    help = "Genera un archivo de claves nuevo (--archivo) o agrega una clave primaria nueva (--agregar)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--archivo", help="Crear este archivo de claves (no debe existir).")
        parser.add_argument("--agregar", action="store_true", help="Poner una clave nueva primera en el archivo.")

    def handle(self, *args: Any, archivo: str | None = None, agregar: bool = False, **opciones: Any) -> None:
        if archivo:
            ruta = Path(archivo)
            if ruta.exists():
                raise CommandError(f"{ruta} ya existe: no se sobrescribe un archivo de claves.")
            ruta.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(ruta, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as f:
                f.write(cifrado.archivo_nuevo())
            self.stdout.write(self.style.SUCCESS(f"Archivo de claves creado: {ruta}"))
            return
        if not agregar:
            raise CommandError("Indique --archivo RUTA o --agregar.")
        ruta = Path(settings.CIFRADO_CLAVES_FILE)
        lineas = [linea for linea in ruta.read_text().splitlines() if linea.strip()]
        indice = [linea for linea in lineas if linea.startswith("indice:")]
        viejas = [linea for linea in lineas if not linea.startswith("indice:")]
        ruta.write_text("\n".join([*indice, Fernet.generate_key().decode(), *viejas]) + "\n")
        cifrado.claves.cache_clear()
        self.stdout.write(
            self.style.SUCCESS("Clave nueva agregada como primaria. Reinicie los servidores y corra cifrado_rotar.")
        )
