// "Sin reporte": efectivos in service whose position stopped arriving. Listed until a fix ends the
// silence (sin_reporte.cerrado); a click flies to where they were last seen and opens their panel.
import { pedir, escapar, hora } from "./api.js";

const horaDe = (iso) => hora(iso);

export class Silencios {
  constructor({ alSeleccionar }) {
    this.seccion = document.getElementById("silencios-seccion");
    this.lista = document.getElementById("silencios");
    this.contador = document.getElementById("silencios-contador");
    this.alSeleccionar = alSeleccionar;
    this.items = new Map();
  }

  async cargar() {
    const datos = await pedir("/api/v1/sin-reporte/?abiertos=true&limit=200");
    this.lista.innerHTML = "";
    this.items.clear();
    for (const a of datos.results.slice().reverse()) {
      this.activado({
        aviso_id: a.id,
        efectivo_id: a.efectivo,
        efectivo: a.efectivo_nombre,
        ultima_posicion_en: a.ultima_posicion_en,
        lat: a.lat,
        lon: a.lon,
        contacto_en: a.contacto_en,
      });
    }
  }

  activado(d) {
    if (this.items.has(d.aviso_id)) return;
    const li = document.createElement("li");
    li.className = "silencio";
    li.dataset.id = d.aviso_id;
    // A phone still in contact without a fresh fix is not a phone gone dark: the card says which.
    const como = d.contacto_en ? `equipo en contacto (${horaDe(d.contacto_en)}), sin posición nueva` : "sin contacto";
    li.innerHTML = `<span>${escapar(d.efectivo)}</span><span class="meta">${como} · sin posición desde ${horaDe(d.ultima_posicion_en)}</span>`;
    li.addEventListener("click", () => this.alSeleccionar(d));
    this.lista.prepend(li);
    this.items.set(d.aviso_id, li);
    this.actualizar();
  }

  cerrado(d) {
    const li = this.items.get(d.aviso_id);
    if (!li) return;
    li.remove();
    this.items.delete(d.aviso_id);
    this.actualizar();
  }

  actualizar() {
    this.contador.textContent = this.items.size;
    this.seccion.hidden = this.items.size === 0;
  }
}
