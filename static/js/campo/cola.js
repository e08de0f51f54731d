// What the field app must send and could not yet (no signal): kept in IndexedDB (idb-keyval), so
// it survives closing the app, and sent in order the moment there is a connection. Every item
// carries its client id, so sending one twice is harmless (the server stores it once).
import { createStore, delMany, entries, set } from "/static/vendor/idb-keyval/index.js";

const almacen = createStore("gad-campo", "cola");
let secuencia = 0;

function clave(tipo) {
  // Sortable: IndexedDB returns keys in order, so the oldest goes first.
  secuencia += 1;
  return `${tipo}:${String(Date.now()).padStart(15, "0")}:${String(secuencia).padStart(6, "0")}`;
}

export async function encolar(tipo, item) {
  await set(clave(tipo), item, almacen);
}

export async function pendientes(tipo) {
  return (await entries(almacen)).filter(([k]) => String(k).startsWith(`${tipo}:`));
}

export async function quitar(claves) {
  if (claves.length) await delMany(claves, almacen);
}

export async function cuantos(tipo) {
  return (await pendientes(tipo)).length;
}
