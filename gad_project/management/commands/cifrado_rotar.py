"""Key rotation for the personal data encrypted at rest (gad_project.cifrado).

1. Put a new key first in CIFRADO_CLAVES_FILE (`manage.py cifrado_clave_nueva --agregar`) and
   restart the servers: they encrypt with it and still decrypt with the old ones.
2. `manage.py cifrado_rotar`: re-encrypts every value under the new key.
3. `manage.py cifrado_rotar --retirar`: checks that the new key alone decrypts everything, then
   removes the old keys from the file. Restart the servers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from gad_project import cifrado


class Command(BaseCommand):
    help = "Re-encrypts the personal data under the first key of CIFRADO_CLAVES_FILE; --retirar drops the others."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--retirar", action="store_true", help="Quitar del archivo las claves viejas.")

    def handle(self, *args: Any, retirar: bool = False, **opciones: Any) -> None:
        claves = cifrado.claves()
        if retirar:
            self._retirar(claves)
            return
        total = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for tabla, columna, con_indice in cifrado.COLUMNAS:
                n = cifrado.cifrar_columna(cursor, tabla, columna, con_indice, rotar=True)
                self.stdout.write(f"{tabla}.{columna}: {n} valores recifrados")
                total += n
        self.stdout.write(self.style.SUCCESS(f"{total} valores cifrados con la clave nueva."))

    def _retirar(self, claves: cifrado.Claves) -> None:
        if len(claves.textos) == 1:
            self.stdout.write("El archivo ya tiene una sola clave.")
            return
        with connection.cursor() as cursor:
            for tabla, columna, con_indice in cifrado.COLUMNAS:
                cursor.execute(f"SELECT {columna} FROM {tabla} WHERE {columna} <> ''")
                for (valor,) in cursor.fetchall():
                    token = str(valor).split(cifrado.SEPARADOR, 1)[-1] if con_indice else str(valor)
                    try:
                        claves.primaria.decrypt(token.encode())
                    except InvalidToken:
                        raise CommandError(
                            f"{tabla}.{columna} tiene valores cifrados con una clave vieja: corra antes `cifrado_rotar`."
                        ) from None
        archivo = Path(settings.CIFRADO_CLAVES_FILE)
        lineas = [linea for linea in archivo.read_text().splitlines() if linea.strip()]
        indice = [linea for linea in lineas if linea.startswith("indice:")]
        archivo.write_text("\n".join([*indice, claves.textos[0]]) + "\n")
        cifrado.claves.cache_clear()
        self.stdout.write(
            self.style.SUCCESS(f"Claves viejas retiradas: {len(claves.textos) - 1}. Reinicie los servidores.")
        )
